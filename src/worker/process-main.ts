/**
 * The main module of a worker process (isolation "process"): connects to its node on the
 * node's local socket, runs the tasks and actors it is sent as a worker thread does, and exits
 * when the node closes the connection or goes away. Its values carry their bodies (it maps no
 * arena): the node copies them in and out.
 */
import { CoreWorker } from "../core-worker/core-worker.js";
import { makeActorHandle } from "../core-worker/actor-handle.js";
import { coreWorker, setCoreWorker } from "../core-worker/runtime.js";
import { TaskExecutor } from "../core-worker/task-executor.js";
import type { FromRaylet, ToRaylet } from "../rpc/protocol.js";
import { connect } from "../rpc/socket-channel.js";
import type { ProcessBootData } from "../raylet/worker-processes.js";
import { prefixLines } from "./log-prefix.js";
import { relocateWorkingDir } from "../core-worker/function-manager/load.js";
import { takeDirectCalls } from "./direct-listener.js";
// Registers the classes that are revived with their prototype (util.Queue) in this process.
import "../util/index.js";

const boot = JSON.parse(process.env.TSRAY_WORKER_BOOT!) as ProcessBootData;
delete process.env.TSRAY_WORKER_BOOT;
// Started in the job's uploaded working directory: its modules load from here.
if (boot.workingDirFrom) relocateWorkingDir(boot.workingDirFrom, process.cwd());

const { channel } = await connect<ToRaylet, FromRaylet>({
  path: boot.socket, token: boot.token, version: boot.version, role: "worker", info: { workerId: boot.workerId },
}).catch((err: Error) => {
  process.stderr.write(`tsray worker process ${boot.workerId}: ${err.message}\n`);
  process.exit(1);
});
// The node closed the connection (it stops, or stopped this worker), or died: nothing is left to do.
channel.onClose(() => process.exit(0));

let executor: TaskExecutor;
const cw = new CoreWorker(
  { workerId: boot.workerId, nodeId: boot.nodeId, jobId: boot.jobId, namespace: boot.namespace, mode: "worker" },
  channel,
  undefined,
  (data, fresh) => makeActorHandle(coreWorker, data, fresh),
  (msg) => executor.onMessage(msg),
);
executor = new TaskExecutor(cw);
// No shared memory here: a collection the node asks for can wait until the tasks at hand are done.
let collectPending = false;
cw.collectWhenIdle = () => {
  if (executor.idle()) cw.collect();
  else collectPending = true;
};
executor.onIdle = () => {
  if (!collectPending) return;
  collectPending = false;
  cw.collect();
};
setCoreWorker(cw);
channel.send({ t: "ready", direct: await takeDirectCalls(boot, executor) });
prefixLines(() => `(${executor.current()?.name ?? executor.idleName} pid=${process.pid}, worker=${boot.workerId})`, boot.logToDriver);
