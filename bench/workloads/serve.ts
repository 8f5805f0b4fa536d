/**
 * tsray Serve's HTTP rows, measured by the same closed-loop load as their peers (serve-peers.ts):
 * Serve runs in a child process of its own (an embedded cluster, its proxy and replicas), the load
 * comes from this one, against 127.0.0.1 only. Modes:
 *   replicas1 / replicas2  a no-op deployment answering JSON, at one and two replicas
 *   unbatched / batched    a handler with a fixed cost per call (a model's invocation, 1 ms of
 *                          work) plus a small cost per item, called per request or through
 *                          serve.batch (up to 16 items per call)
 */
import { fork } from "node:child_process";
import * as ray from "tsray";
import * as serve from "tsray/serve";
import { fileURLToPath } from "node:url";
import { measureHttp } from "./http-load.js";
import { report } from "./measure.js";

const MODES = ["replicas1", "replicas2", "unbatched", "batched"] as const;
type Mode = (typeof MODES)[number];

/** Busy work standing for a model's invocation: `ms` of CPU. */
function work(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

class NoOp {
  fetch() {
    return { ok: true };
  }
}

class Unbatched {
  fetch() {
    work(1 + 0.02);
    return { ok: true };
  }
}

class Batched {
  predict = serve.batch(async (items: number[]) => {
    work(1 + 0.02 * items.length);
    return items.map(() => ({ ok: true }));
  }, { maxBatchSize: 16, batchWaitTimeoutMs: 2 });
  fetch() {
    return this.predict(1);
  }
}

/** In the child: starts Serve with the mode's deployment on a free port and tells the parent which. */
async function serveMode(mode: Mode): Promise<void> {
  process.on("disconnect", () => void shutdown().then(() => process.exit(0)));
  await ray.init({ numCpus: 4, logToDriver: false, includeDashboard: false });
  const { httpUrl } = (await serve.start({ http: { port: 0 } })) as { httpUrl: string };
  const deployments: Record<Mode, () => { bind(): serve.Application<unknown> }> = {
    replicas1: () => serve.deployment(NoOp, { numReplicas: 1, maxOngoingRequests: 32 }),
    replicas2: () => serve.deployment(NoOp, { numReplicas: 2, maxOngoingRequests: 32 }),
    unbatched: () => serve.deployment(Unbatched, { maxOngoingRequests: 32 }),
    batched: () => serve.deployment(Batched, { maxOngoingRequests: 32 }),
  };
  await serve.run(deployments[mode]().bind(), { routePrefix: "/" });
  process.send!({ url: `${httpUrl}/` });
}

async function shutdown(): Promise<void> {
  await serve.shutdown().catch(() => {});
  await ray.shutdown();
}

async function measure(mode: Mode): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), ["--serve", mode], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.once("message", (m) => resolve((m as { url: string }).url));
      child.once("exit", (code) => reject(new Error(`the ${mode} Serve process exited (code ${code}) before serving`)));
    });
    report(await measureHttp(url));
  } finally {
    // Serve's shutdown and the cluster's, then the process exits; killed if it does not.
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.disconnect();
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    await exited;
    clearTimeout(timer);
  }
}

const [flag, modeArg] = process.argv[2] === "--serve" ? ["--serve", process.argv[3]] : ["", process.argv[2] ?? "replicas1"];
if (!MODES.includes(modeArg as Mode)) throw new TypeError(`serve: unknown mode ${modeArg}; modes: ${MODES.join(", ")}`);
if (flag === "--serve") await serveMode(modeArg as Mode);
else await measure(modeArg as Mode);
