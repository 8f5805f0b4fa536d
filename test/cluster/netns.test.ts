// Two nodes on two hosts of their own: network namespaces joined by a veth pair, each with its
// own address and no route to the other's loopback. The head binds its namespace's address
// (--node-ip-address), the worker node joins it across the link, and a driver's work reaches
// both. Needs `ip netns` (root): skipped, saying why, where it cannot run.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { bin, driver, DRIVER_ARGS, result, type Run, type Session } from "../helpers/cluster.js";

const tag = `${process.pid % 10000}`;
const subnet = `10.213.${process.pid % 250}`;
const hosts = {
  a: { ns: `tsray-a-${tag}`, ip: `${subnet}.1`, tmp: mkdtempSync(path.join(os.tmpdir(), "tsray-netns-a-")) },
  b: { ns: `tsray-b-${tag}`, ip: `${subnet}.2`, tmp: mkdtempSync(path.join(os.tmpdir(), "tsray-netns-b-")) },
};
type Host = (typeof hosts)[keyof typeof hosts];

const skip = canMakeNamespaces() ? false : "needs `ip netns` (root and iproute2)";

/** Runs node with `args` inside the host's namespace, with its own session folder. */
function inHost(host: Host, args: string[]): Promise<Run> {
  const env = { ...process.env, TSRAY_TMPDIR: host.tmp, TSRAY_ADDRESS: "", TSRAY_TOKEN: "" };
  return new Promise((resolve) => {
    execFile("ip", ["netns", "exec", host.ns, process.execPath, ...args], { env }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}
const tsray = (host: Host, ...args: string[]) => inHost(host, [bin, ...args]);
const sessionOf = (host: Host): Session => {
  const dir = readdirSync(host.tmp).find((d) => d.startsWith("node-"))!;
  return JSON.parse(readFileSync(path.join(host.tmp, dir, "node.json"), "utf8")) as Session;
};

before(() => {
  if (skip) return;
  const ip = (...args: string[]) => execFileSync("ip", args);
  for (const h of Object.values(hosts)) ip("netns", "add", h.ns);
  ip("link", "add", `tsa${tag}`, "type", "veth", "peer", "name", `tsb${tag}`);
  for (const [h, dev] of [[hosts.a, `tsa${tag}`], [hosts.b, `tsb${tag}`]] as const) {
    ip("link", "set", dev, "netns", h.ns);
    ip("-n", h.ns, "addr", "add", `${h.ip}/24`, "dev", dev);
    ip("-n", h.ns, "link", "set", dev, "up");
    ip("-n", h.ns, "link", "set", "lo", "up");
  }
});

after(async () => {
  if (!skip) {
    for (const h of Object.values(hosts)) await tsray(h, "stop", "--force");
    for (const h of Object.values(hosts)) execFileSync("ip", ["netns", "del", h.ns]);
  }
  for (const h of Object.values(hosts)) rmSync(h.tmp, { recursive: true, force: true });
});

test("a head and a worker node on two hosts, each on its own address: the node joins across the link and work reaches both", { skip }, async () => {
  const started = await tsray(hosts.a, "start", "--head", "--port", "0", "--num-cpus", "1", "--node-ip-address", hosts.a.ip, "--include-dashboard", "false");
  assert.equal(started.code, 0, started.stderr);
  const head = sessionOf(hosts.a);
  assert.match(head.address, new RegExp(`^${hosts.a.ip.replace(/\./g, "\\.")}:\\d+$`));
  const token = readFileSync(path.join(hosts.a.tmp, `node-${head.nodeId}`, "token"), "utf8");

  // Host b has no way to the head but its address: its own loopback has nothing listening.
  const loopback = await tsray(hosts.b, "start", "--address", `127.0.0.1:${head.address.split(":")[1]}`, "--token", token);
  assert.equal(loopback.code, 2);
  const joined = await tsray(hosts.b, "start", "--address", head.address, "--token", token, "--num-cpus", "1", "--node-ip-address", hosts.b.ip);
  assert.equal(joined.code, 0, joined.stderr);
  const worker = sessionOf(hosts.b);

  const nodes = JSON.parse((await tsray(hosts.a, "list", "nodes", "--format", "json")).stdout) as { node_id: string; node_ip: string; state: string }[];
  assert.deepEqual(nodes.map((n) => [n.node_id, n.node_ip, n.state]).sort(), [[head.nodeId, hosts.a.ip, "ALIVE"], [worker.nodeId, hosts.b.ip, "ALIVE"]].sort());

  const r = result(await inHost(hosts.a, [...DRIVER_ARGS, driver, "nodes"]));
  assert.deepEqual(new Set(r.spread as string[]), new Set([head.nodeId, worker.nodeId]), "SPREAD tasks ran on both hosts");
  assert.deepEqual(r.sums, [head.nodeId, worker.nodeId].map((n) => [n, (24 * 2 ** 20) / 8 / 2]), "a 24 MB argument crossed the link");
  assert.equal(r.nested, 42);
});

function canMakeNamespaces(): boolean {
  const probe = `tsray-probe-${tag}`;
  try {
    execFileSync("ip", ["netns", "add", probe], { stdio: "ignore" });
    execFileSync("ip", ["netns", "del", probe], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
