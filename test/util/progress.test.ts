// Progress bars: how bars share one line (a fake stream and clock), and what drivers print when
// their stderr is a terminal (a pseudo-terminal made by util-linux `script`), when it is not, and
// with init({ progressBars: false }).
import { test } from "node:test";
import assert from "node:assert/strict";
import { ProgressDisplay } from "../../src/util/progress-display.js";
import { screenOf } from "../helpers/terminal.js";

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
