// Runs every program in examples/ as its own process, the way a user runs it, and checks that it
// exits by itself with code 0 and prints the results its article shows. No assertion on timing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

/** A generous per-program limit: each runs in a few seconds; past this it counts as hung. */
const TIMEOUT_MS = 40_000;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node --conditions=tsray-source --import tsx <file>` in the repo root; killed if the test is aborted. */
function runExample(file: string, signal: AbortSignal): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--conditions=tsray-source", "--import", "tsx", `examples/${file}`],
      { cwd: root, signal, maxBuffer: 16 * 2 ** 20 },
      (error, stdout, stderr) => {
        const e = error as (Error & { code?: unknown; signal?: NodeJS.Signals | null }) | null;
        resolve({ code: e ? (typeof e.code === "number" ? e.code : null) : 0, signal: e?.signal ?? null, stdout, stderr });
      },
    );
  });
}

/** The output's lines, without the "(task pid=..., worker=...) " prefix of lines printed by workers. */
function linesOf(stdout: string): string[] {
  return stdout.split("\n").map((l) => l.replace(/^\([^)]* pid=\d+, worker=[0-9a-f]+\) /, ""));
}

/** The one line matching `re` (fails if none). */
function lineMatching(lines: string[], re: RegExp): RegExpMatchArray {
  for (const l of lines) {
    const m = l.match(re);
    if (m) return m;
  }
  assert.fail(`no line matches ${re}:\n${lines.join("\n")}`);
}

/** The lines in `lines` equal to each of `expected`, in this order (others may come between). */
function assertInOrder(lines: string[], expected: string[]): void {
  let at = 0;
  for (const want of expected) {
    const i = lines.indexOf(want, at);
    assert.ok(i >= 0, `expected line ${JSON.stringify(want)} (in order) in:\n${lines.join("\n")}`);
    at = i + 1;
  }
}

const checks: Record<string, (lines: string[]) => void> = {
  "quick-start.ts": (lines) => {
    assertInOrder(lines, ["squares: [ 1, 4, 9, 16 ]", "sum of a million halves: 500000", "counter: 3"]);
  },

  "seed-000-qiita-single-to-distributed.ts": (lines) => {
    assertInOrder(lines, ["results: [0, 1, 2, 3]", "z shape: [300, 300]", "0", "2"]);
    // Entries of X·Y (300 x 300, both N(0,1)) have std sqrt(300) ≈ 17.3.
    const std = Number(lineMatching(lines, /^z std: ([\d.]+)/)[1]);
    assert.ok(std > 15 && std < 20, `z std ${std}`);
    // The replay buffer: five samples, each one of the senders' words.
    const samples = lines.filter((l) => l.startsWith("sample: ")).map((l) => l.slice("sample: ".length));
    assert.equal(samples.length, 5);
    for (const s of samples) assert.ok(["pakupaku", "hogehoge", "mogumogu"].includes(s), `sample ${s}`);
    assertInOrder(lines, ["wrapped sample: pakupaku"]);
  },

  "seed-001-intro-fr.ts": (lines) => {
    assertInOrder(lines, ["1 2", "1 2", "[1, 2]", "[3, 5, 7, 9]", "[3, 5, 7, 9]", "[1, 101, 2, 102, 3, 103]"]);
    lineMatching(lines, /^ObjectRef\([0-9a-f]+\)$/);
    // Two incrementers share one counter: ten increments, counts 1..10, five from each.
    const increments = lines.map((l) => l.match(/^id= (\d) : count = (\d+)$/)).filter((m) => m !== null);
    assert.deepEqual(increments.map((m) => Number(m[2])).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(increments.filter((m) => m[1] === "1").length, 5);
    assert.equal(increments.filter((m) => m[1] === "2").length, 5);
    // ray.wait: the two shortest first, in input order; then the longest. ray.put: [0, 1, 2, 3].
    lineMatching(lines, /^\[3, 2\] after /);
    lineMatching(lines, /^\[5\] after /);
    assertInOrder(lines, ["[0, 1, 2, 3]"]);
  },

  "seed-002-script-parallel.ts": (lines) => {
    assertInOrder(lines, [
      "3", "[1, 3, 5]", "100",
      "Task 0 completed", "Task 1 completed", "Task 2 completed", "Task 3 completed", "Task 4 completed",
      "First task completed: 1",
    ]);
    const refs = lineMatching(lines, /^10個に分割されたデータセット: \[(.*)\]$/)[1].split(", ");
    assert.equal(refs.length, 10);
    for (const r of refs) assert.match(r, /^ObjectRef\([0-9a-f]+\)$/);
    const means = lineMatching(lines, /^各パーティションの平均値: \[(.*)\]$/)[1].split(", ").map(Number);
    assert.equal(means.length, 4);
    for (const m of means) assert.ok(m > 0 && m < 1, `partition mean ${m}`);
    const total = Number(lineMatching(lines, /^全体の平均値: ([\d.e-]+)$/)[1]);
    assert.ok(Math.abs(total - means.reduce((a, b) => a + b, 0) / 4) < 1e-9, `total mean ${total}`);
    assertInOrder(lines, ["[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]"]);
  },

  "seed-002-data.ts": (lines) => {
    assertInOrder(lines, ["10個に分割されたデータセット: 10 blocks, 100 rows"]);
    const means = lineMatching(lines, /^各パーティションの平均値: \[(.*)\]$/)[1].split(", ").map(Number);
    assert.equal(means.length, 4);
    for (const m of means) assert.ok(m > 0 && m < 1, `partition mean ${m}`);
    const total = Number(lineMatching(lines, /^全体の平均値: ([\d.e-]+)$/)[1]);
    assert.ok(Math.abs(total - means.reduce((a, b) => a + b, 0) / 4) < 1e-9, `total mean ${total}`);
    assertInOrder(lines, ["same as a plain loop: true"]);
  },

  "data-tour.ts": (lines) => {
    assertInOrder(lines, ["columns: region, units, unit_price, returned, month", "rows: 12000 of 12000"]);
    lineMatching(lines, /^parquet files: \d+ rows: 4$/);
    const sales = ["east", "north", "south", "west"].map((r) => Number(lineMatching(lines, new RegExp(`^${r}: (\\d+) sales`))[1]));
    assert.equal(sales.reduce((a, b) => a + b, 0), 12000);
    assertInOrder(lines, ["same as a plain loop: true"]);
  },

  "seed-004-serve.ts": (lines) => {
    lineMatching(lines, /^Counter deployed at http:\/\/127\.0\.0\.1:\d+\/Counter$/);
    assertInOrder(lines, ['HTTP: {"count":1}', 'handle: {"count":2}']);
  },

  "serve-tour.ts": (lines) => {
    lineMatching(lines, /^sentiment at http:\/\/127\.0\.0\.1:\d+\/sentiment$/);
    assertInOrder(lines, [
      'score: {"text":"A great day, good food","score":3}',
      'words: "not\\nbad\\nat\\nall\\n"',
      "scores: 1 -1 2 -2 2 -2 0 4",
      'meh after the update: {"text":"meh","score":-1} same replica: true',
      'through the handle: {"text":"good","score":1}',
      "status: RUNNING Tokenizer=HEALTHY Scorer=HEALTHY Api=HEALTHY",
    ]);
    // How the eight calls fell into batches depends on timing: between 1 and 8 each.
    const largest = Number(lineMatching(lines, /^largest batch: (\d+)$/)[1]);
    assert.ok(largest >= 1 && largest <= 8, `largest batch ${largest}`);
  },

  "seed-004-multiprocessing-ko.ts": (lines) => {
    lineMatching(lines, /^list comprehension: 1000000 results in \d+ ms$/);
    lineMatching(lines, /^Pool\(processes=16\)\.map: 1000000 results in \d+ ms$/);
    assertInOrder(lines, ["same results: true"]);
    // A sum of 100 standard normals: std 10.
    const [, n, std] = lineMatching(lines, /^tree reduce: 1 array of (\d+) values, mean -?[\d.]+, std ([\d.]+)$/);
    assert.equal(Number(n), 1000);
    assert.ok(Number(std) > 8 && Number(std) < 12, `tree reduce std ${std}`);
    lineMatching(lines, /^get in the loop \(X\): \[0, 1, 2, 3\] in \d+ ms$/);
    lineMatching(lines, /^one get \(O\): \[0, 1, 2, 3\] in \d+ ms$/);
    assertInOrder(lines, ["example"]);
    lineMatching(lines, /^20 tasks, array passed by value: \d+ ms$/);
    lineMatching(lines, /^20 tasks, array put once: \d+ ms$/);
    lineMatching(lines, /^dashboard: http:\/\/127\.0\.0\.1:\d+$/);
    assertInOrder(lines, ["CPUs the dashboard reports: 2"]);
  },
};

const examples = readdirSync(new URL("../examples/", import.meta.url)).filter((f) => f.endsWith(".ts")).sort();

test("every example has its checks", () => {
  assert.deepEqual(examples, Object.keys(checks).sort());
});

for (const file of examples) {
  test(file, { timeout: TIMEOUT_MS }, async (t) => {
    const run = await runExample(file, t.signal);
    assert.equal(run.signal, null, `${file} was killed (${run.signal}): it did not exit by itself\n${run.stdout}\n${run.stderr}`);
    assert.equal(run.code, 0, `${file} exited with code ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
    checks[file]?.(linesOf(run.stdout));
  });
}
