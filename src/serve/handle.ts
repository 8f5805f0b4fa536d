/**
 * DeploymentHandle: `handle.method.remote(...)` for a class deployment, `handle.remote(...)` for a
 * function, `handle.options({ stream, multiplexedModelId })` for a variant. A handle is its app and
 * deployment names and options, nothing else: it travels to tasks, actors and replicas through
 * util.registerSerializer (a process that never imported tsray/serve imports this module to read
 * one), and calls go through the router of the process they are made in (router.ts).
 */
import * as ray from "tsray";
import { currentRequest } from "./request-context.js";
import { checkNoNestedResponses, DeploymentResponse, DeploymentResponseGenerator, newRequestMeta } from "./response.js";
import { routerFor } from "./router.js";
import { getOnce } from "./get-once.js";

export interface HandleOptions {
  multiplexedModelId?: string;
  stream?: boolean;
}

/** Property names a handle never treats as a method: awaiting a handle, JSON and inspection must not call the deployment. */
const NOT_METHODS = new Set(["then", "catch", "finally", "toJSON", "inspect", "asymmetricMatch", "$$typeof", "nodeType", "prototype"]);

export class DeploymentHandleImpl {
  constructor(readonly appName: string, readonly deploymentName: string, readonly handleOptions: HandleOptions) {}

  options(opts: HandleOptions): DeploymentHandleImpl {
    if (typeof opts !== "object" || opts === null) throw new TypeError("handle.options() takes an object");
    for (const key of Object.keys(opts)) {
      if (key !== "stream" && key !== "multiplexedModelId") throw new TypeError(`handle.options() has no option '${key}' (known: stream, multiplexedModelId)`);
    }
    if (opts.stream !== undefined && typeof opts.stream !== "boolean") throw new TypeError("handle.options() option stream must be a boolean");
    if (opts.multiplexedModelId !== undefined && typeof opts.multiplexedModelId !== "string") throw new TypeError("handle.options() option multiplexedModelId must be a string");
    return makeHandle(this.appName, this.deploymentName, { ...this.handleOptions, ...opts });
  }

  /** A function deployment's call (its replica calls the function itself). */
  remote(...args: unknown[]): unknown {
    return this.call("__call__", args);
  }

  /** @internal */
  call(method: string, args: unknown[]): DeploymentResponse | DeploymentResponseGenerator {
    checkNoNestedResponses(args, `${this.deploymentName}.${method}`);
    const router = routerFor(this.appName, this.deploymentName);
    const parent = currentRequest();
    const meta = newRequestMeta(this.appName, this.handleOptions.multiplexedModelId ?? parent?.multiplexedModelId ?? "");
    if (this.handleOptions.stream) {
      return new DeploymentResponseGenerator(router, meta, (replica, resolved) => getOnce(replica.actor.stream.remote(meta, method, ...resolved)), args);
    }
    return new DeploymentResponse(router, meta, method, args);
  }
}

export function makeHandle(appName: string, deploymentName: string, options: HandleOptions): DeploymentHandleImpl {
  const impl = new DeploymentHandleImpl(appName, deploymentName, options);
  return new Proxy(impl, {
    get(target, prop, receiver) {
      if (typeof prop === "symbol" || prop in target || NOT_METHODS.has(prop)) return Reflect.get(target, prop, receiver);
      return { remote: (...args: unknown[]) => target.call(prop, args) };
    },
  });
}

ray.util.registerSerializer(DeploymentHandleImpl, {
  tag: "tsray.serve.DeploymentHandle",
  module: import.meta.url,
  serialize: (h: DeploymentHandleImpl) => ({ appName: h.appName, deploymentName: h.deploymentName, options: h.handleOptions }),
  deserialize: (s: { appName: string; deploymentName: string; options: HandleOptions }) => makeHandle(s.appName, s.deploymentName, s.options),
});
