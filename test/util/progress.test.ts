// Progress bars: how bars share one line (a fake stream and clock), and what drivers print when
// their stderr is a terminal (a pseudo-terminal made by util-linux `script`), when it is not, and
// with init({ progressBars: false }).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ProgressDisplay } from "../../src/util/progress-display.js";
import { clusterFolder, type Session } from "../helpers/cluster.js";
import { screenOf } from "../helpers/terminal.js";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));
const driver = fileURLToPath(new URL("../fixtures/progress-driver.ts", import.meta.url));
const SOURCE = ["--conditions=tsray-source", "--import", "tsx"];
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Everything the driver wrote, as read from its pseudo-terminal (stdout and stderr both). */
async function inTerminal(args: string[], { nodeArgs = SOURCE, env = process.env } = {}): Promise<string> {
  const command = [process.execPath, ...nodeArgs, driver, ...args].map(quote).join(" ");
  const { stdout } = await run("script", ["-qfec", command, "/dev/null"], { cwd: root, env, timeout: 120_000 });
  return stdout;
}

// ---------------------------------------------------------------------------------------------
// The display, with a stand-in stream and a clock the test moves

/** A display on a fake terminal of 70 columns, where `print` is the program's own output. */
function fakeDisplay() {
  let output = "";
  let now = 0;
  const terminal = {
    columns: 70,
    write(chunk: string | Uint8Array) {
      output += String(chunk);
      return true;
    },
  };
  const display = new ProgressDisplay(terminal, () => now, { sharedWith: [terminal] });
  return {
    display,
    print: (text: string) => terminal.write(text),
    output: () => output,
    screen: () => screenOf(output),
    at: (ms: number) => {
      now = ms;
      display.redraw();
    },
  };
}

test("a bar shows only once its work has lasted half a second", () => {
  const t = fakeDisplay();
  const quick = t.display.start("quick", 10);
  t.at(400);
  quick.advance(10);
  const failed = t.display.start("failed", 10);
  t.at(800);
  failed.abandon();
  t.at(1500);
  assert.equal(t.output(), "");
});

test("a bar is redrawn in place when its text changes, and stays as its final line when complete", () => {
  const t = fakeDisplay();
  const bar = t.display.start("Pool.map", 4);
  bar.advance();
  t.at(500);
  assert.deepEqual(t.screen(), ["Pool.map  25%|██████▎                  | 1/4 [00:00<00:01, 2.00 it/s]"]);
  const written = t.output().length;
  t.at(500);
  assert.equal(t.output().length, written, "the same text is not written again");
  bar.advance(3); // the total: the bar completes at once, before the caller's next output
  assert.deepEqual(t.screen(), ["Pool.map 100%|██████████████████████████████| 4/4 [00:00, 8.00 it/s]"]);
  bar.advance();
  bar.abandon();
  t.at(2000);
  assert.deepEqual(t.screen(), ["Pool.map 100%|██████████████████████████████| 4/4 [00:00, 8.00 it/s]"]);
  assert.match(t.output(), /\n$/);
});

test("several bars share the line: the newest shows, one that completes prints its final line above", () => {
  const t = fakeDisplay();
  const older = t.display.start("older", 2);
  const newer = t.display.start("newer", undefined);
  t.at(1000);
  assert.deepEqual(t.screen(), ["newer 0 [00:01, ? it/s]"]);
  older.advance(2);
  assert.deepEqual(t.screen(), ["older 100%|██████████████████████████████| 2/2 [00:01, 2.00 it/s]", "newer 0 [00:01, ? it/s]"]);
  const third = t.display.start("third", 5);
  t.at(1400);
  third.abandon(); // never shown: the line stays as it is
  newer.advance(3);
  t.at(2000);
  assert.deepEqual(t.screen().at(-1), "newer 3 [00:02, 1.50 it/s]");
  newer.abandon(); // failed or broken off: wiped
  assert.deepEqual(t.screen(), ["older 100%|██████████████████████████████| 2/2 [00:01, 2.00 it/s]"]);
});

test("when the newest bar goes, the one before it takes the line again", () => {
  const t = fakeDisplay();
  const first = t.display.start("first", 10);
  const second = t.display.start("second", 10);
  first.advance(4);
  t.at(1000);
  second.abandon();
  assert.deepEqual(t.screen(), ["first  40%|██████████▊                | 4/10 [00:01<00:01, 4.00 it/s]"]);
  first.abandon();
  assert.deepEqual(t.screen(), []);
});

test("the program's own output is printed clear of the bar, which is drawn again below it", () => {
  const t = fakeDisplay();
  const bar = t.display.start("gen", undefined);
  bar.advance(2);
  t.at(1000);
  t.print("result 1\n");
  assert.deepEqual(t.screen(), ["result 1"]);
  t.at(1000);
  assert.deepEqual(t.screen(), ["result 1", "gen 2 [00:01, 2.00 it/s]"]);
  t.print("continue? ");
  t.at(2000);
  assert.deepEqual(t.screen(), ["result 1", "continue? "], "a line left open is not drawn over");
  bar.finish();
  t.print("done\n");
  assert.deepEqual(t.screen(), ["result 1", "continue? ", "gen 2 [00:02, 1.00 it/s]", "done"]);
});

// ---------------------------------------------------------------------------------------------
// Drivers under a pseudo-terminal

const BAR_LINE = (label: string) => new RegExp(`^${label.replace(/[.()]/g, "\\$&")} +100%\\|█+\\| 40/40 \\[\\d\\d:\\d\\d, [\\d.]+ (it/s|s/it)\\]$`);

test("with stderr a terminal, Pool.map shows done/total, rate and ETA, and leaves its final line", async () => {
  const output = await inTerminal(["pool"]);
  assert.match(output, /Pool\.map\(work\) +\d+%\|[^|]*\| \d+\/40 \[\d\d:\d\d<\d\d:\d\d, [\d.?]+ (it\/s|s\/it)\]\x1b\[K/);
  assert.deepEqual(screenOf(output).length, 2, output);
  assert.match(screenOf(output)[0], BAR_LINE("Pool.map(work)"));
  assert.equal(screenOf(output)[1], "result 780");
});

test("init({ progressBars: false }) shows no bar", async () => {
  const output = await inTerminal(["off"]);
  assert.deepEqual(screenOf(output), ["result 780"]);
  assert.doesNotMatch(output, /Pool\.map|\x1b\[K/);
});

test("with stderr not a terminal, no bar is drawn", async () => {
  const { stdout, stderr } = await run(process.execPath, [...SOURCE, driver, "plain"], { cwd: root, timeout: 120_000 });
  assert.equal(stdout, "result 780\n");
  assert.doesNotMatch(stderr, /Pool\.map|it\/s|\x1b\[K/);
});

test("a map whose function throws wipes its bar, and the error reaches the caller", async () => {
  const output = await inTerminal(["throws"]);
  assert.match(output, /Pool\.map\(work\) /, "the bar was drawn before the failure");
  assert.deepEqual(screenOf(output), ["caught boom"]);
});

test("a terminated pool's map and a disposed ActorPool's map wipe their bars", async () => {
  const terminated = await inTerminal(["terminate"]);
  assert.match(terminated, /Pool\.map\(work\) /);
  assert.deepEqual(screenOf(terminated), ["terminated"]);
  const disposed = await inTerminal(["actor-pool-dispose"]);
  assert.match(disposed, /ActorPool\.mapUnordered /);
  assert.deepEqual(screenOf(disposed), ["disposed"]);
});

test("an imap broken off wipes its bar", async () => {
  const output = await inTerminal(["imap-break"]);
  assert.match(output, /Pool\.imap\(work\) /);
  assert.deepEqual(screenOf(output), ["broke off after 0"]);
});

test("what the program prints while a bar is drawn gets lines of its own", async () => {
  const screen = screenOf(await inTerminal(["imap-print"]));
  const bars = screen.filter((line) => line.startsWith("Pool.imap(work)"));
  assert.equal(bars.length, 1, screen.join("\n"));
  assert.match(bars[0], BAR_LINE("Pool.imap(work)"));
  assert.deepEqual(screen.filter((line) => line !== bars[0]), Array.from({ length: 40 }, (_, i) => String(i)));
});

test("ActorPool.map shows its bar", async () => {
  const output = await inTerminal(["actor-pool"]);
  assert.equal(screenOf(output).length, 2, output);
  assert.match(screenOf(output)[0], BAR_LINE("ActorPool.map"));
  assert.equal(screenOf(output)[1], "result 780");
});

test("a driver connected to a running cluster (init({ address })) shows bars, and none with progressBars: false", async () => {
  const { tmp, env, tsray, sessionDirs } = clusterFolder();
  try {
    const started = await tsray("start", "--head", "--port", "0", "--num-cpus", "2", "--include-dashboard", "false");
    assert.equal(started.code, 0, started.stderr);
    const head = JSON.parse(readFileSync(path.join(tmp, sessionDirs()[0], "node.json"), "utf8")) as Session;
    // As the cluster's other drivers: tsray from dist, the package its nodes run.
    const opts = { nodeArgs: ["--import", "tsx"], env };
    const shown = screenOf(await inTerminal(["pool", head.address], opts));
    assert.match(shown[0], BAR_LINE("Pool.map(work)"), shown.join("\n"));
    assert.equal(shown[1], "result 780");
    assert.deepEqual(screenOf(await inTerminal(["off", head.address], opts)), ["result 780"]);
  } finally {
    await tsray("stop", "--force");
    rmSync(tmp, { recursive: true, force: true });
  }
});
