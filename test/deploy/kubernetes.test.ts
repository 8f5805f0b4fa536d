// The Kubernetes manifests cannot run here: this reads them and checks that they fit together
// (the worker nodes reach the head's Service on its port, everyone proves the same token from
// one Secret, pods bind their own IP, not loopback) and that the tsray command takes their args.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { parseFlags } from "../../src/cli/args.js";
import { START_FLAGS } from "../../src/cli/start.js";

const dir = fileURLToPath(new URL("../../deploy/kubernetes/", import.meta.url));
type Doc = { kind: string; metadata: { name: string }; spec: any; stringData?: Record<string, string> };
const docs: Doc[] = readdirSync(dir)
  .filter((f) => f.endsWith(".yaml"))
  .flatMap((f) => parseAllDocuments(readFileSync(dir + f, "utf8")).map((d) => d.toJS() as Doc));
const find = (kind: string, name: string) => {
  const d = docs.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(d, `${kind} ${name} is defined`);
  return d;
};
const container = (name: string) => find("Deployment", name).spec.template.spec.containers[0];

test("the worker nodes join the head through its Service, on the port the head listens on", () => {
  const service = find("Service", "tsray-head");
  const head = find("Deployment", "tsray-head");
  for (const [k, v] of Object.entries(service.spec.selector)) assert.equal(head.spec.template.metadata.labels[k], v);
  const headArgs = parseFlags("start", container("tsray-head").args, START_FLAGS).flags;
  assert.equal(headArgs.head, true);
  assert.ok(service.spec.ports.some((p: { port: number; targetPort: number }) => p.port === headArgs.port && p.targetPort === headArgs.port));
  const workerArgs = parseFlags("start", container("tsray-worker").args, START_FLAGS).flags;
  assert.equal(workerArgs.address, `${service.metadata.name}:${headArgs.port}`);
});

test("every node runs in the foreground, bound to its pod's IP, proving the token of one Secret", () => {
  const secret = find("Secret", "tsray-token");
  for (const name of ["tsray-head", "tsray-worker"]) {
    const c = container(name);
    const flags = parseFlags("start", c.args, START_FLAGS).flags;
    assert.equal(flags.block, true, name);
    assert.equal(flags["node-ip-address"], "$(POD_IP)", name);
    const env = Object.fromEntries(c.env.map((e: { name: string; valueFrom: unknown }) => [e.name, e.valueFrom]));
    assert.deepEqual(env.POD_IP, { fieldRef: { fieldPath: "status.podIP" } }, name);
    const ref = (env.TSRAY_TOKEN as { secretKeyRef: { name: string; key: string } }).secretKeyRef;
    assert.equal(ref.name, secret.metadata.name, name);
    assert.ok(ref.key in secret.stringData!, name);
    assert.ok(c.resources.requests.cpu && c.resources.requests.memory, `${name} asks for resources`);
    assert.equal(c.image, container("tsray-head").image, "one image for every node");
  }
});

test("the image's entrypoint is the tsray command of the package it builds", () => {
  const dockerfile = readFileSync(fileURLToPath(new URL("../../Dockerfile", import.meta.url)), "utf8");
  assert.match(dockerfile, /^FROM node:20/m);
  assert.match(dockerfile, /^RUN npm ci$/m);
  assert.match(dockerfile, /^ENTRYPOINT \["node", "\/opt\/tsray\/bin\/tsray\.mjs"\]$/m);
});
