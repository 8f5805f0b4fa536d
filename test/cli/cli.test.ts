// The tsray command of this release: its verbs exist (with their usage under --help) but say
// they are not available yet; anything else is an unknown command.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../../bin/tsray.mjs", import.meta.url));

function tsray(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], (err, stdout, stderr) => resolve({ code: err ? (err.code as number) : 0, stdout, stderr }));
  });
}

test("--help lists the commands, --version prints the version", async () => {
  const help = await tsray("--help");
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: tsray <start\|stop\|status\|list\|logs\|timeline\|memory\|job\|serve>/);
  assert.match((await tsray("--version")).stdout, /^\d+\.\d+\.\d+\n$/);
});

test("every verb has --help with its usage", async () => {
  for (const verb of ["start", "stop", "status", "list", "logs", "timeline", "memory", "job", "serve"]) {
    const { code, stdout } = await tsray(verb, "--help");
    assert.equal(code, 0, verb);
    assert.match(stdout, new RegExp(`^Usage:\\n  tsray ${verb}`), verb);
    assert.match(stdout, /Not available in this release/, verb);
  }
});

test("a verb of a later release says so in one line and exits non-zero; stop with nothing running succeeds quietly", async () => {
  const start = await tsray("start", "--head");
  assert.equal(start.code, 2);
  assert.equal(start.stderr.trim().split("\n").length, 1);
  assert.match(start.stderr, /^tsray start: not available in this release; use `await ray\.init\(\)`/);
  const stop = await tsray("stop");
  assert.deepEqual([stop.code, stop.stdout, stop.stderr], [0, "", ""]);
});

test("an unknown command is named as such", async () => {
  const { code, stderr } = await tsray("strat");
  assert.equal(code, 2);
  assert.match(stderr, /^tsray: unknown command 'strat' \(commands: start, stop, .*; see tsray --help\)\n$/);
});
