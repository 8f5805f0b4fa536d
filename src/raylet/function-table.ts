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

  missingFor(w: PooledWorker, ids: string[]): FunctionDescriptor[] {
    const out: FunctionDescriptor[] = [];
    for (const id of ids) {
      if (!id || w.knownFunctions.has(id)) continue;
      const desc = this.byId.get(id);
      if (!desc) continue;
      w.knownFunctions.add(id);
      out.push(desc);
    }
    return out;
  }
}
