/** The core worker of this thread: the driver's after `init`, a worker thread's from its start. */
import { RayError } from "../common/errors.js";
import type { CoreWorker } from "./core-worker.js";

let current: CoreWorker | undefined;

export function setCoreWorker(cw: CoreWorker | undefined): void {
  current = cw;
}

export function coreWorker(): CoreWorker {
  if (!current || current.closed) {
    throw new RayError("tsray is not initialized: call `await ray.init()` before using the API");
  }
  return current;
}

export function maybeCoreWorker(): CoreWorker | undefined {
  return current && !current.closed ? current : undefined;
}
