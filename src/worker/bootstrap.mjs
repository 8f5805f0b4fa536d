// Entry of every worker thread and worker process. Plain JavaScript: it runs before any loader. When tsray runs
// from its TypeScript sources, the worker needs tsx before loading its own main module; when it
// runs compiled, tsx is registered only once a shipped function needs a TypeScript module (see
// load.ts), which spares most workers the start-up of a hooks thread.
import { workerData } from "node:worker_threads";
import { setupModuleLoading } from "../core-worker/function-manager/worker-setup.mjs";

// A thread gets its settings as workerData; a process, in its environment.
const boot = workerData ?? JSON.parse(process.env.TSRAY_WORKER_BOOT);
if (boot.mainUrl.endsWith(".ts")) await setupModuleLoading({ tsx: boot.tsx });
globalThis[Symbol.for("tsray.driver-runs-tsx")] = boot.tsx;
await import(boot.mainUrl);
