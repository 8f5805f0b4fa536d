import { test } from "node:test";
import assert from "node:assert/strict";
import { clock, formatProgressLine } from "../../src/util/progress-line.js";

test("a known total: percentage, bar, done/total, elapsed<ETA and rate", () => {
  assert.equal(
    formatProgressLine({ label: "Pool.map(square)", done: 18, total: 40, elapsedMs: 1000 }, 80),
    "Pool.map(square)  45%|███████████▎             | 18/40 [00:01<00:01, 18.0 it/s]",
  );
});

test("complete: no ETA; before the first item: no rate", () => {
  assert.equal(formatProgressLine({ label: "m", done: 40, total: 40, elapsedMs: 2500 }, 50), "m 100%|████████████████| 40/40 [00:02, 16.0 it/s]");
  assert.equal(formatProgressLine({ label: "m", done: 0, total: 40, elapsedMs: 700 }, 50), "m   0%|                  | 0/40 [00:00<?, ? it/s]");
});

test("an unknown total: done, elapsed and rate only", () => {
  assert.equal(formatProgressLine({ label: "gen", done: 7, elapsedMs: 3500 }, 80), "gen 7 [00:03, 2.00 it/s]");
  assert.equal(formatProgressLine({ label: "gen", done: 0, total: 0, elapsedMs: 0 }, 80), "gen 0 [00:00, ? it/s]");
});

test("slow work shows seconds per item; fast work whole items per second", () => {
  assert.match(formatProgressLine({ label: "m", done: 2, total: 9, elapsedMs: 5000 }, 80), /\[00:05<00:17, 2\.50 s\/it\]$/);
  assert.match(formatProgressLine({ label: "m", done: 5000, total: 9000, elapsedMs: 2000 }, 80), /, 2500 it\/s\]$/);
});

test("the line never reaches the last column: the bar narrows, then goes, then the label and the rate", () => {
  const state = { label: "ActorPool.mapUnordered", done: 3, total: 10, elapsedMs: 1000 };
  for (let columns = 0; columns <= 120; columns++) {
    const line = formatProgressLine(state, columns);
    assert.ok(line.length <= Math.max(1, columns - 1), `${columns} columns: ${JSON.stringify(line)}`);
  }
  const at = (columns: number) => formatProgressLine(state, columns);
  assert.equal(at(120), "ActorPool.mapUnordered  30%|█████████                     | 3/10 [00:01<00:02, 3.00 it/s]");
  assert.equal(at(80), "ActorPool.mapUnordered  30%|██████              | 3/10 [00:01<00:02, 3.00 it/s]");
  assert.equal(at(60), "ActorPool.mapUnordered  30% 3/10 [00:01<00:02, 3.00 it/s]");
  assert.equal(at(45), "ActorPoo…  30% 3/10 [00:01<00:02, 3.00 it/s]");
  assert.equal(at(30), "ActorPool.mapUnord…  30% 3/10");
  assert.equal(formatProgressLine({ label: "ActorPool.mapUnordered", done: 3, elapsedMs: 1000 }, 20), "ActorPool.mapUno… 3");
});

test("clock: mm:ss, then h:mm:ss", () => {
  assert.equal(clock(0), "00:00");
  assert.equal(clock(61_999), "01:01");
  assert.equal(clock(3_600_000 + 62_000), "1:01:02");
});
