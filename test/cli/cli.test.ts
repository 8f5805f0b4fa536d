// The tsray command: every verb has its usage under --help;
// bad flags and anything else are named in one line. (Nodes started with it: test/cluster.)
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
    // Every verb is available (none is left for later work).
    assert.doesNotMatch(stdout, /Not available in this release/, verb);
  }
});

test("serve's subcommands are listed in its usage; another is named in one line", async () => {
  const help = await tsray("serve", "--help");
  for (const sub of ["run", "deploy", "status", "config", "shutdown", "build"]) assert.match(help.stdout, new RegExp(`tsray serve ${sub} `), sub);
  const bad = await tsray("serve", "launch");
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr, "tsray serve: the subcommand is one of run, deploy, status, config, shutdown, build (got 'launch'; see tsray serve --help)\n");
});

test("bad flags and arguments are named in one line", async () => {
  const env = { ...process.env, TSRAY_TMPDIR: "/nonexistent/tsray-cli-test" };
  for (const [args, message] of [
    [["start"], /^tsray start: pass --head to start a head node, or --address HOST:PORT to join one\n$/],
    [["start", "--head", "--prot", "1"], /^tsray start: unknown option --prot \(see tsray start --help\)\n$/],
    [["start", "--head", "--num-cpus", "many"], /^tsray start: --num-cpus must be a non-negative number, got 'many'\n$/],
    [["start", "--head", "--resources", "{CPU: 2}"], /^tsray start: --resources must be JSON/],
    [["start", "--head", "--resources", '{"CPU": 2}'], /^tsray start: --resources must not contain 'CPU': use --num-cpus\n$/],
    [["list", "widgets"], /^tsray list: what to list is one of nodes, jobs, actors, tasks, objects, placement-groups \(got 'widgets'\)\n$/],
    [["timeline", "now"], /^tsray timeline: unexpected argument 'now'\n$/],
    [["memory", "--format", "xml"], /^tsray memory: --format is table or json, got 'xml'\n$/],
    [["logs", "--follow"], /^tsray logs: give one of --task-id, --actor-id or --node-id\n$/],
    [["list", "nodes", "--format", "xml"], /^tsray list: --format is table or json, got 'xml'\n$/],
    [["status"], /^tsray status: no cluster runs on this machine/],
  ] as const) {
    const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(process.execPath, [bin, ...args], { env }, (err, _out, stderr) => resolve({ code: err ? (err.code as number) : 0, stderr }));
    });
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.stderr, message);
  }
});

test("stop with nothing running succeeds quietly", async () => {
  const stop = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [bin, "stop"], { env: { ...process.env, TSRAY_TMPDIR: "/nonexistent/tsray-cli-test" } }, (err, stdout, stderr) =>
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr }));
  });
  assert.deepEqual([stop.code, stop.stdout, stop.stderr], [0, "", ""]);
});

test("an unknown command is named as such", async () => {
  const { code, stderr } = await tsray("strat");
  assert.equal(code, 2);
  assert.match(stderr, /^tsray: unknown command 'strat' \(commands: start, stop, .*; see tsray --help\)\n$/);
});
