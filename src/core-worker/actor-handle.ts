/**
 * ActorHandle: a proxy exposing the actor class's methods, each with `.remote()` and
 * `.options()`. A name the class does not have throws a TypeError at once. Handles are
 * counted like ObjectRefs: an anonymous actor ends when no handle to it is left.
 */
import { inspect } from "node:util";
import { checkKnownOptions } from "../common/validate.js";
import { ACTOR_HANDLE_BRAND, type ActorHandleData } from "../serialization/markers.js";
import type { CoreWorker } from "./core-worker.js";
import { submitActorTask } from "./submit.js";
import { checkInteger, checkString } from "../common/validate.js";
import { METHOD_OPTION_KEYS } from "./task-options.js";
import type { ObjectRef } from "./object-ref.js";

interface MethodOptions {
  numReturns?: number;
  name?: string;
}

class ActorMethod {
  private readonly name: string;
  constructor(
    private readonly cw: () => CoreWorker,
    private readonly data: ActorHandleData,
    private readonly method: string,
    private readonly opts: MethodOptions,
  ) {
    this.name = opts.name ?? `${data.className}.${method}`;
  }

  remote(...args: unknown[]): ObjectRef | ObjectRef[] {
    const refs = submitActorTask(this.cw(), this.data, this.method, this.name, args, this.opts.numReturns);
    return refs.length > 1 ? refs : refs[0];
  }

  options(opts: MethodOptions): ActorMethod {
    const what = `${this.data.className}.${this.method}.options()`;
    checkKnownOptions(what, opts, METHOD_OPTION_KEYS);
    checkInteger(`${what}.numReturns`, opts.numReturns, 1, 0xfffe);
    checkString(`${what}.name`, opts.name);
    return new ActorMethod(this.cw, this.data, this.method, { ...this.opts, ...opts });
  }
}

export function makeActorHandle(cw: () => CoreWorker, data: ActorHandleData, fresh: boolean): object {
  const methods = new Map<string, ActorMethod>();
  for (const m of data.methods) methods.set(m, new ActorMethod(cw, data, m, {}));
  const describe = () => `ActorHandle(${data.className}, ${data.actorId})`;
  const handle = new Proxy(Object.create(null) as object, {
    get(_target, prop) {
      if (prop === ACTOR_HANDLE_BRAND) return data;
      if (typeof prop === "symbol") {
        if (prop === inspect.custom || prop === Symbol.toPrimitive) return describe;
        if (prop === Symbol.toStringTag) return "ActorHandle";
        return undefined;
      }
      const m = methods.get(prop);
      if (m) return m;
      // Probes made by await, JSON and printing are answered, not treated as method calls.
      if (prop === "then" || prop === "toJSON") return undefined;
      if (prop === "toString") return describe;
      throw new TypeError(`actor ${data.className} has no method '${prop}' (its methods: ${data.methods.join(", ") || "none"})`);
    },
    has(_target, prop) {
      return typeof prop === "string" && methods.has(prop);
    },
    ownKeys() {
      return [...methods.keys()];
    },
    getOwnPropertyDescriptor(_target, prop) {
      const m = typeof prop === "string" ? methods.get(prop) : undefined;
      return m ? { value: m, enumerable: true, configurable: true, writable: false } : undefined;
    },
    set() {
      throw new TypeError(`an ActorHandle is read-only`);
    },
  });
  cw().tracker.track(handle, data.actorId, fresh);
  return handle;
}

/** The public methods of a class: own and inherited prototype functions, without the constructor. */
export function methodNames(cls: Function): string[] {
  const names = new Set<string>();
  for (let proto = cls.prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (key === "constructor") continue;
      const d = Object.getOwnPropertyDescriptor(proto, key);
      if (d && typeof d.value === "function") names.add(key);
    }
  }
  return [...names];
}
