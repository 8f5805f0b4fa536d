/**
 * The actor's side of direct calls (see core-worker/direct-calls.ts): a worker process listens
 * on a Unix socket of its own, in its node's private folder, where callers in the node's process
 * send it calls and hear their results without the node's main thread in between. Callers prove
 * a token this process made, which only its node hands out.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import type { TaskExecutor } from "../core-worker/task-executor.js";
import type { DirectEndpoint, FromActor, ToActor } from "../rpc/protocol.js";
import { listen } from "../rpc/socket-channel.js";
import type { ProcessBootData } from "../raylet/worker-processes.js";

/** Listens for direct calls and hands them to `executor`; where, or undefined if it cannot. */
export async function takeDirectCalls(boot: ProcessBootData, executor: TaskExecutor): Promise<DirectEndpoint | undefined> {
  const endpoint: DirectEndpoint = { path: path.join(path.dirname(boot.socket), `${boot.workerId}.sock`), token: randomBytes(24).toString("hex") };
  try {
    const server = await listen<FromActor, ToActor>({
      path: endpoint.path,
      token: endpoint.token,
      version: boot.version,
      log: (line) => process.stderr.write(`tsray worker process ${boot.workerId}: ${line}\n`),
      onPeer: (caller) => {
        caller.unref();
        caller.onMessage((msg) => executor.onMessage(msg, caller));
      },
    });
    server.unref();
    return endpoint;
  } catch (err) {
    // Calls then all go through the node, as they do to threads.
    process.stderr.write(`tsray worker process ${boot.workerId}: no direct calls (${(err as Error).message})\n`);
    return undefined;
  }
}
