/**
 * The descriptors of the functions and classes tasks name, registered by submitters. Each
 * worker is sent a descriptor with the first task that needs it, never twice.
 */
import type { FunctionDescriptor } from "../core-worker/function-manager/descriptor.js";
import type { PooledWorker } from "./worker-pool.js";

export class FunctionTable {
  private readonly byId = new Map<string, FunctionDescriptor>();

  register(desc: FunctionDescriptor): void {
    this.byId.set(desc.id, desc);
  }

  get(id: string | undefined): FunctionDescriptor | undefined {
    return id === undefined ? undefined : this.byId.get(id);
  }

  /** The descriptor of `id` if worker `w` has not been sent it yet (then it counts as sent). */
  missingFor(w: PooledWorker, id: string | undefined): FunctionDescriptor[] {
    if (!id || w.knownFunctions.has(id)) return [];
    const desc = this.byId.get(id);
    if (!desc) return [];
    w.knownFunctions.add(id);
    return [desc];
  }
}
