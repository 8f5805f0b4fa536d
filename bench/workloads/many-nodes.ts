// Scale on this machine: 32 worker node processes of one CPU each join one head, 10,000 SPREAD
// tasks complete across them, and `tsray status` lists them all; then the head's memory and CPU
// while idle.
import { readFileSync } from "node:fs";
import * as ray from "tsray";
import { tsray, withLocalCluster } from "./local-cluster.js";
import { now, report, scale } from "./measure.js";

const NODES = scale(32, 2);
const TASKS = scale(10_000, 100);

/** The process's resident memory (MB) and CPU time (ms), from /proc. */
function usage(pid: number): { rssMb: number; cpuMs: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  const ticks = Number(stat[11]) + Number(stat[12]);
  const rssPages = Number(readFileSync(`/proc/${pid}/statm`, "utf8").split(" ")[1]);
  return { rssMb: (rssPages * 4096) / 2 ** 20, cpuMs: ticks * 10 };
}

await withLocalCluster(NODES, async (head, joinMs) => {
  const joinSeconds = joinMs / 1000;
  const { stdout } = await tsray("status");
  const listed = (stdout.match(/^ +ALIVE /gm) ?? []).length;

  await ray.init({ address: "auto", logToDriver: false });
  const where = ray.remote(function where() {
    return ray.getRuntimeContext().nodeId;
  });
  const t = now();
  const ran = await ray.get(Array.from({ length: TASKS }, () => where.options({ schedulingStrategy: "SPREAD" }).remote()));
  const taskSeconds = (now() - t) / 1000;
  const nodesUsed = new Set(ran).size;
  await ray.shutdown();

  // The head while idle: its memory, and the CPU it spends in 2 s of heartbeats.
  const before = usage(head.pid);
  await new Promise((r) => setTimeout(r, 2000));
  const after = usage(head.pid);
  report({
    nodes: NODES, joinSeconds, listed, tasks: TASKS, taskSeconds, nodesUsed,
    headIdleRssMb: after.rssMb, headIdleCpuPercent: ((after.cpuMs - before.cpuMs) / 2000) * 100,
  });
});
