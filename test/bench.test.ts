// CI's smoke run of the benchmark: every workload, tiny counts, so `npm run bench` keeps
// working. Figures are not asserted: speed goals live in the benchmark's own report.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = fileURLToPath(new URL("..", import.meta.url));

test("npm run bench works end to end (smoke: tiny counts)", { timeout: 300_000 }, async () => {
  const { stdout } = await run(process.execPath, ["--import", "tsx", "bench/run.ts", "--smoke", "--json"], { cwd: root, maxBuffer: 16 * 2 ** 20 });
  const report = JSON.parse(stdout) as { machine: { smoke: boolean }; rows: { workload: string; tsray: string }[] };
  assert.equal(report.machine.smoke, true);
  const workloads = report.rows.map((r) => r.workload);
  for (const w of ["async no-op tasks (20k)", "sync task round trip", "actor calls (20k, one actor)", "100 MB Float64Array to a task",
    "put 100 MB into a warm store", "seed 004: Pool.map x*10 over 1M", "init() to first result", "1M tasks queued, then drained", "1,000 actors alive", "cluster: task round trip to a worker node"]) {
    assert.ok(workloads.includes(w), `missing row: ${w}`);
  }
  for (const row of report.rows) assert.doesNotMatch(row.tsray, /^skipped/, `${row.workload} did not run`);
});
