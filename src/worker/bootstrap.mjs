// Entry of every worker thread. Plain JavaScript: it runs before any loader, registers the
// module hooks the driver runs under (tsx) and the one that lets shipped functions import
// their module's dependencies, then loads the worker's main module.
import { workerData } from "node:worker_threads";
import { setupModuleLoading } from "../core-worker/function-manager/worker-setup.mjs";

await setupModuleLoading({ tsx: workerData.tsx });
await import(workerData.mainUrl);
