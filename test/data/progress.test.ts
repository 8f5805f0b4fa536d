// Progress of tsray Data on stderr (DataContext.enableProgressBars): a global line and a line per
// operator, redrawn in place on a terminal (a pseudo-terminal made by util-linux `script`),
// printed at the end (and every 5 s at most) elsewhere, and nothing when disabled.
import { mock, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startDataProgress } from "../../src/data/data-progress.js";
import { ExecutionBudget } from "../../src/data/execution-budget.js";
import { ExecutionRecorder } from "../../src/data/execution-stats.js";
import * as data from "tsray/data";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));
const driver = fileURLToPath(new URL("./fixtures/progress-driver.ts", import.meta.url));
const SOURCE = ["--conditions=tsray-source", "--import", "tsx"];
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The lines a terminal shows after `output`: `\r` and `\n` as usual, `ESC[nF` moves n lines up to
 * the start of the line, `ESC[K` clears to its end, text overwrites.
 */
function screenOf(output: string): string[] {
  const lines: string[] = [""];
  let row = 0;
  let col = 0;
  for (const [token, count, csi] of output.matchAll(/\x1b\[([0-9;?]*)([A-Za-z])|\r|\n|[^\x1b\r\n]+/g)) {
    if (token === "\r") col = 0;
    else if (token === "\n") {
      row++;
      col = 0;
      lines[row] ??= "";
    } else if (csi === "F") {
      row = Math.max(0, row - Number(count || 1));
      col = 0;
    } else if (csi === "K") lines[row] = lines[row]!.slice(0, col);
    else if (csi === undefined) {
      const line = lines[row]!;
      lines[row] = line.slice(0, col).padEnd(col) + token + line.slice(col + token.length);
      col += token.length;
    }
  }
  while (lines.length > 0 && lines.at(-1) === "") lines.pop();
  return lines;
}

test("off a terminal: the final lines, global and per operator, on stderr", async () => {
  const { stdout, stderr } = await run(process.execPath, [...SOURCE, driver, "on"], { cwd: root, timeout: 120_000 });
  assert.match(stdout, /rows 2000/);
  const lines = stderr.split("\n");
  const global = lines.filter((l) => l.startsWith("Running Dataset:"));
  assert.ok(global.length >= 1, stderr);
  assert.match(global.at(-1)!, /^Running Dataset: CPU \d+\/2, store [\d.]+ (B|KiB|MiB)\/[\d.]+ (MiB|GiB), rows 2000 /);
  const op = lines.filter((l) => l.startsWith("- ReadRange->Map(triple):"));
  assert.match(op.at(-1)!, /^- ReadRange->Map\(triple\): 0 active, 0 queued, rows 2000 /);
  assert.doesNotMatch(stderr, /\x1b\[/, "no escape sequences off a terminal");
});

test("disabled: nothing on stderr", async () => {
  const { stdout, stderr } = await run(process.execPath, [...SOURCE, driver, "off"], { cwd: root, timeout: 120_000 });
  assert.match(stdout, /rows 2000/);
  assert.doesNotMatch(stderr, /Running Dataset|ReadRange/);
});

test("without operator bars: the global line alone", async () => {
  const { stderr } = await run(process.execPath, [...SOURCE, driver, "global"], { cwd: root, timeout: 120_000 });
  assert.match(stderr, /Running Dataset: .*rows 2000/);
  assert.doesNotMatch(stderr, /ReadRange->Map/);
});

test("on a terminal: the lines are redrawn in place and stay as they ended", async () => {
  const command = [process.execPath, ...SOURCE, driver, "on"].map(quote).join(" ");
  const { stdout } = await run("script", ["-qfec", command, "/dev/null"], { cwd: root, timeout: 120_000 });
  // Drawn more than once (every 100 ms while it runs, and at the end): each time over the lines before.
  assert.match(stdout, /\x1b\[2F/);
  const screen = screenOf(stdout);
  // Drawn as often as it was, the block of lines appears once on the screen: global, then the operator.
  const global = screen.filter((l) => l.startsWith("Running Dataset:"));
  const op = screen.filter((l) => l.startsWith("- ReadRange->Map(triple):"));
  assert.equal(global.length, 1, screen.join("\n"));
  assert.equal(op.length, 1, screen.join("\n"));
  assert.equal(screen.indexOf(op[0]!), screen.indexOf(global[0]!) + 1);
  assert.match(global[0]!, /rows 2000 /);
  assert.match(op[0]!, /0 active, 0 queued, rows 2000 /);
});

test("an operator held back by the budget says [backpressure]; counts against limits on the global line", () => {
  const recorder = new ExecutionRecorder();
  const budget = new ExecutionBudget({ cpu: undefined, gpu: undefined, objectStoreMemory: 1024, clusterCpu: 4, clusterGpu: 1 }, recorder);
  const op = recorder.operator("ReadRange->Map(f)", { cpu: 1, gpu: 0 });
  op.taskStarted();
  op.taskStarted();
  op.backpressured = true;
  let text = "";
  const output = { isTTY: false, write: (s: string) => (text += s) };
  startDataProgress(data.DataContext.getCurrent(), budget, recorder, output).end(false);
  const [global, line] = text.trimEnd().split("\n");
  assert.match(global!, /^Running Dataset: CPU 2\/4, GPU 0\/1, store 0 B\/1.0 KiB, rows 0/);
  assert.match(line!, /^- ReadRange->Map\(f\): 2 active, 0 queued \[backpressure\], rows 0/);
});

test("off a terminal, the lines come every 5 s at most while it runs, and once at the end", () => {
  mock.timers.enable({ apis: ["setInterval"] });
  try {
    const recorder = new ExecutionRecorder();
    const budget = new ExecutionBudget({ cpu: undefined, gpu: undefined, objectStoreMemory: 1 << 20, clusterCpu: 2, clusterGpu: 0 }, recorder);
    const op = recorder.operator("ReadRange", { cpu: 1, gpu: 0 });
    const writes: string[] = [];
    const progress = startDataProgress(data.DataContext.getCurrent(), budget, recorder, { isTTY: false, write: (s: string) => writes.push(s) });
    mock.timers.tick(4999);
    assert.equal(writes.length, 0);
    mock.timers.tick(1);
    assert.equal(writes.length, 1);
    mock.timers.tick(5000);
    assert.equal(writes.length, 1, "nothing moved: no new lines");
    op.taskStarted();
    mock.timers.tick(5000);
    assert.equal(writes.length, 2);
    op.taskFinished();
    progress.end(true);
    assert.equal(writes.length, 3);
    mock.timers.tick(20_000);
    assert.equal(writes.length, 3, "nothing after the end");
    assert.match(writes[2]!, /^Running Dataset: .*\n- ReadRange: 0 active, 0 queued, rows 0 .*\n$/);
  } finally {
    mock.timers.reset();
  }
});
