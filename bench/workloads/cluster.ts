// A cluster of node processes on this machine, started with the CLI (a head and two worker nodes
// of one CPU each), and a driver in this process: a 100 MB object made on one worker node and
// pulled by the other, the round trip of a task on a worker node, and 20 ms sleeping tasks spread
// over the three nodes against the same tasks on one.
import * as ray from "tsray";
import { withLocalCluster } from "./local-cluster.js";
import { now, report, scale } from "./measure.js";

const BIG = scale(100 * 2 ** 20, 2 ** 20) / 8;
const ROUND_TRIPS = scale(500, 20);
const SLEEPERS = scale(60, 6);

await withLocalCluster(2, async () => {
  await ray.init({ address: "auto", logToDriver: false });
  const nodes = await ray.nodes();
  const [b, c] = nodes.filter((n) => !n.isHead).map((n) => ({ schedulingStrategy: { type: "node_affinity" as const, nodeId: n.nodeId, soft: false } }));
  const headNode = { schedulingStrategy: { type: "node_affinity" as const, nodeId: nodes.find((n) => n.isHead)!.nodeId, soft: false } };

  const make = ray.remote(function make(n: number) {
    return new Float64Array(n).fill(1);
  });
  const length = ray.remote(function length(xs: Float64Array) {
    return xs.length;
  });
  const noop = ray.remote(function noop() {
    return 0;
  });
  const sleep20 = ray.remote(async function sleep20() {
    await new Promise((r) => setTimeout(r, 20));
  });

  // Warm-up: every node's workers started and the functions loaded there.
  await ray.get([b, c, headNode].flatMap((o) => [noop.options(o).remote(), length.options(o).remote(new Float64Array(8))]));
  await ray.get(sleep20.options({ schedulingStrategy: "SPREAD" }).remote());

  // Made on one worker node, then read by a task on the other: the time from the task's
  // submission to its result, which is the pull of the object (and a task round trip, <1% of
  // it). The first round warms both nodes' stores; the median of five rounds is reported.
  const transfer = async () => {
    const big = make.options(b).remote(BIG);
    await ray.wait([big]);
    const t0 = now();
    if ((await ray.get(length.options(c).remote(big))) !== BIG) throw new Error("wrong length");
    return now() - t0;
  };
  await transfer();
  const rounds: number[] = [];
  for (let i = 0; i < scale(5, 1); i++) rounds.push(await transfer());
  const transferMs = rounds.sort((x, y) => x - y)[rounds.length >> 1];
  let t = now();

  for (let i = 0; i < 20; i++) await ray.get(noop.options(b).remote());
  t = now();
  for (let i = 0; i < ROUND_TRIPS; i++) await ray.get(noop.options(b).remote());
  const remoteRoundTripUs = ((now() - t) / ROUND_TRIPS) * 1000;

  t = now();
  await ray.get(Array.from({ length: SLEEPERS }, () => sleep20.options(headNode).remote()));
  const oneNodeMs = now() - t;
  t = now();
  await ray.get(Array.from({ length: SLEEPERS }, () => sleep20.options({ schedulingStrategy: "SPREAD" }).remote()));
  const threeNodesMs = now() - t;

  await ray.shutdown();
  report({
    transferGbPerSecond: (BIG * 8) / 2 ** 30 / (transferMs / 1000),
    remoteRoundTripUs,
    spreadSpeedup: oneNodeMs / threeNodesMs,
  });
});
