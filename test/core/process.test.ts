// Logs and process hygiene, seen from outside: each case runs a driver in a child process.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const tsNode = (file: string, ...args: string[]) =>
  run(process.execPath, ["--conditions=tsray-source", "--import", "tsx", fixture(file), ...args], { cwd: root, timeout: 60_000 });

test("workers' output reaches the driver, each line prefixed with the task or actor name and worker", async () => {
  const { stdout, stderr } = await tsNode("log-driver.ts");
  assert.match(stdout, /^\(shout pid=\d+, worker=[0-9a-f]+\) task says hello$/m);
  assert.match(stderr, /^\(shout pid=\d+, worker=[0-9a-f]+\) task warns hello$/m);
  // A line written in two pieces is printed once, whole.
  assert.match(stdout, /^\(Speaker\.say pid=\d+, worker=[0-9a-f]+\) actor says hi$/m);
  assert.match(stdout, /^driver done$/m);
});

test("logToDriver: false silences the workers", async () => {
  const { stdout, stderr } = await tsNode("log-driver.ts", "quiet");
  assert.doesNotMatch(stdout + stderr, /says|warns/);
  assert.match(stdout, /driver done/);
});

test("a driver exits by itself after shutdown, and when it ends without shutdown", async () => {
  for (const mode of ["shutdown", "no-shutdown"]) {
    // execFile resolves only when the process has exited: a leftover thread or handle would hang here until the timeout.
    const { stdout } = await tsNode("exit-driver.ts", mode);
    assert.match(stdout, /result 42/, mode);
  }
});

test("compiled JavaScript behaves as TypeScript run by tsx", async () => {
  // Plain node, no tsx, no source condition: "tsray" resolves to the built dist/.
  const { stdout } = await run(process.execPath, [fixture("compiled-driver.mjs")], { cwd: root, timeout: 60_000 });
  assert.deepEqual(JSON.parse(stdout), { digest: "b6898354", twice: 42, tally: 5 });
});
