/**
 * Progress bars for long work driven from the driver (Pool's maps, ActorPool's maps): drawn on
 * stderr when it is a terminal and init's `progressBars` is not false, nothing at all otherwise.
 * How bars share the terminal's line is ProgressDisplay's job; what a line says, progress-line's.
 */
import { progressBarsEnabled } from "../api/lifecycle.js";
import { ProgressDisplay } from "./progress-display.js";

/** What a caller reports to its bar. Every method does nothing once the bar has ended. */
export interface Progress {
  /** `n` more items are done; reaching the total completes the bar. */
  advance(n?: number): void;
  /** The work completed: the bar, if shown, stays as its final line. */
  finish(): void;
  /** The work failed or was given up: the bar, if shown, is wiped. */
  abandon(): void;
}

/** For work that shows no bar. */
export const noProgress: Progress = { advance() {}, finish() {}, abandon() {} };

let stderrDisplay: ProgressDisplay | undefined;

/** A bar for work on `total` items (undefined: not known); a no-op unless bars are to be drawn. */
export function startProgress(label: string, total: number | undefined): Progress {
  if (!process.stderr.isTTY || !progressBarsEnabled()) return noProgress;
  stderrDisplay ??= new ProgressDisplay(process.stderr, () => performance.now(), {
    // stdout on a terminal is taken to be the same one (as when nothing is redirected).
    sharedWith: process.stdout.isTTY ? [process.stderr, process.stdout] : [process.stderr],
    clearOnExit: true,
  });
  return stderrDisplay.start(label, total);
}
