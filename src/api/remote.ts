/**
 * `remote()`: turns a function into a RemoteFunction and a class into an ActorClass. Both can
 * be made before `init` (usually at module top level); `.remote()` needs a running cluster.
 */
import { RayActorError } from "../common/errors.js";
import { checkKnownOptions, describe } from "../common/validate.js";
import { makeActorHandle, methodNames } from "../core-worker/actor-handle.js";
import { callerModuleUrl, describeCallable, describeExport } from "../core-worker/function-manager/describe.js";
import type { FunctionDescriptor } from "../core-worker/function-manager/descriptor.js";
import { ObjectRefGenerator } from "../core-worker/object-ref-generator.js";
import type { ObjectRef } from "../core-worker/object-ref.js";
import { coreWorker } from "../core-worker/runtime.js";
import { submitActorCreation, submitTask } from "../core-worker/submit.js";
import { ACTOR_OPTION_KEYS, checkActorOptions, checkTaskOptions, TASK_OPTION_KEYS } from "../core-worker/task-options.js";
import type { ActorOptions, TaskOptions } from "../types.js";

const CALLABLE = Symbol.for("tsray.callable");
type AnyFn = (...args: any[]) => any;
type AnyClass = abstract new (...args: any[]) => any;

/** Lazily describes a callable: describing reads and parses its module, so only on first use. */
class Shipped {
  constructor(readonly target: Function, readonly scopeUrl: string, private desc?: FunctionDescriptor) {}
  descriptor(): FunctionDescriptor {
    return (this.desc ??= describeCallable(this.target, this.scopeUrl));
  }
}

export class RemoteFunction {
  readonly [CALLABLE]: Function;
  constructor(private readonly shipped: Shipped, private readonly opts: TaskOptions) {
    this[CALLABLE] = shipped.target;
  }

  remote(...args: unknown[]): ObjectRef | ObjectRef[] | ObjectRefGenerator {
    if ((this.opts.numReturns ?? 1) === 1 && isGeneratorFunction(this.shipped.target)) {
      const name = this.shipped.target.name || "the remote function";
      throw new TypeError(`${name} is a generator function: call ${name}.options({ numReturns: "streaming" }).remote(...) to receive what it yields, as it yields it`);
    }
    const cw = coreWorker();
    const { taskId, refs } = submitTask(cw, this.shipped.descriptor(), args, this.opts);
    if (this.opts.numReturns === "streaming") return new ObjectRefGenerator(cw, taskId, refs[0]);
    return this.opts.numReturns !== undefined && this.opts.numReturns > 1 ? refs : refs[0];
  }

  options(opts: TaskOptions): RemoteFunction {
    checkTaskOptions(`${this.shipped.target.name || "remote function"}.options()`, opts);
    return new RemoteFunction(this.shipped, { ...this.opts, ...opts });
  }
}

export class ActorClass {
  readonly [CALLABLE]: Function;
  constructor(private readonly shipped: Shipped, private readonly opts: ActorOptions) {
    this[CALLABLE] = shipped.target;
  }

  remote(...args: unknown[]): object {
    const cw = coreWorker();
    const cls = this.shipped.target;
    const o = this.opts;
    const className = cls.name || "Actor";
    const namespace = o.namespace ?? cw.info.namespace;
    if (o.name !== undefined && !o.getIfExists && cw.actorNameTaken(namespace, o.name)) {
      throw new RayActorError(`an actor named '${o.name}' already exists in namespace '${namespace}'; use getIfExists to reuse it`);
    }
    const methods = methodNames(cls);
    const { actorId } = submitActorCreation(cw, this.shipped.descriptor(), args, o, {
      className,
      methods,
      name: o.name,
      namespace,
      detached: o.lifetime === "detached",
      maxRestarts: o.maxRestarts ?? 0,
      maxTaskRetries: o.maxTaskRetries ?? 0,
      maxConcurrency: o.maxConcurrency ?? 1,
      getIfExists: o.getIfExists ?? false,
      holdsResources: o.numCpus !== undefined || o.numGpus !== undefined || o.resources !== undefined || o.memory !== undefined,
    });
    return makeActorHandle(coreWorker, { actorId, className, methods, maxTaskRetries: o.maxTaskRetries ?? 0 }, true);
  }

  options(opts: ActorOptions): ActorClass {
    checkActorOptions(`${this.shipped.target.name || "actor class"}.options()`, opts);
    return new ActorClass(this.shipped, { ...this.opts, ...opts });
  }
}

function isGeneratorFunction(f: Function): boolean {
  const kind = Object.getPrototypeOf(f)?.constructor?.name;
  return kind === "GeneratorFunction" || kind === "AsyncGeneratorFunction";
}

function isClass(x: Function): boolean {
  return /^class[\s{]/.test(Function.prototype.toString.call(x));
}

function make(target: Function, opts: ActorOptions & TaskOptions, shipped: Shipped): RemoteFunction | ActorClass {
  if (isClass(target)) {
    checkActorOptions(`remote(${target.name}) options`, opts);
    return new ActorClass(shipped, opts);
  }
  checkTaskOptions(`remote(${target.name || "function"}) options`, opts);
  return new RemoteFunction(shipped, opts);
}

/**
 * @internal `remote()` for functions and classes of tsray's own modules (the Pool's chunk
 * runner, the Queue's actor). `remote()` takes the scope from the first stack frame outside
 * tsray, which does not exist while one of our modules loads; here it is given: the module that
 * exports the target under its name, so workers simply import it.
 */
export function remoteIn(moduleUrl: string, target: Function, opts: ActorOptions & TaskOptions = {}): RemoteFunction | ActorClass {
  return make(target, opts, new Shipped(target, moduleUrl, describeExport(target, moduleUrl)));
}

export function remote(target: AnyFn | AnyClass | (ActorOptions & TaskOptions)): unknown {
  const scopeUrl = callerModuleUrl();
  if (typeof target === "function") return make(target, {}, new Shipped(target, scopeUrl));
  if (target && typeof target === "object") {
    // Checked here so a misspelled option fails where it was written.
    checkKnownOptions("remote() options", target, [...new Set([...TASK_OPTION_KEYS, ...ACTOR_OPTION_KEYS])]);
    const opts = target;
    return (fnOrClass: Function) => {
      if (typeof fnOrClass !== "function") throw new TypeError(`remote(options) must be applied to a function or class, got ${describe(fnOrClass)}`);
      return make(fnOrClass, opts, new Shipped(fnOrClass, scopeUrl));
    };
  }
  throw new TypeError(`remote() takes a function, a class, or an options object, got ${describe(target)}`);
}
