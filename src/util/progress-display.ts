/**
 * The one line of a terminal that progress bars share, redrawn in place (`\r`, the text, clear
 * to end of line) by one timer, at most ten times a second.
 *
 * - A bar is shown only once its work has lasted half a second: short maps never flash one.
 * - The newest shown bar takes the line; one that completes meanwhile prints its final line
 *   above it, so bars never garble each other. A bar whose work fails or is abandoned is wiped,
 *   leaving the line clean for the error that follows.
 * - Other output to the terminal (the program's own, its workers' logs) would land after the
 *   bar's text: the bar steps aside (the line is cleared first) and is drawn again below it at
 *   the next tick, once that output has ended its line.
 */
import type { Progress } from "./progress.js";
import { formatProgressLine } from "./progress-line.js";

/** Where bars are drawn: process.stderr, or a stand-in in tests. */
export interface ProgressStream {
  readonly columns?: number;
  write(text: string): unknown;
}

/** A stream whose writes land on the bars' terminal. */
export interface SharingStream {
  write(chunk: string | Uint8Array, ...rest: never[]): boolean;
}

export interface ProgressDisplayOptions {
  /** Streams on the same terminal (the bars' own among them), whose writes the bar steps aside for. */
  sharedWith?: SharingStream[];
  /** Wipe a bar still drawn when the process exits (an iteration dropped without being closed). */
  clearOnExit?: boolean;
}

const SHOW_AFTER_MS = 500;
const REDRAW_EVERY_MS = 100;
const CLEAR_TO_END = "\x1b[K";

interface Bar {
  label: string;
  total: number | undefined;
  done: number;
  startedAt: number;
  /** Its work has lasted long enough to be shown (it is drawn only while it is the newest shown). */
  shown: boolean;
  ended: boolean;
}

export class ProgressDisplay {
  readonly #stream: ProgressStream;
  readonly #now: () => number;
  readonly #opts: ProgressDisplayOptions;
  /** Bars not ended yet, oldest first. */
  readonly #bars: Bar[] = [];
  /** The bar on the line and the text drawn for it, so an unchanged line is not written again. */
  #onLine: Bar | undefined;
  #drawn = "";
  /** Other output left its line unfinished (a prompt, dots): drawing now would overwrite it. */
  #lineTaken = false;
  /** The display itself is writing: what goes through the shared streams now is the bar. */
  #writing = false;
  #timer: NodeJS.Timeout | undefined;
  #hooked = false;

  constructor(stream: ProgressStream, now: () => number, opts: ProgressDisplayOptions = {}) {
    this.#stream = stream;
    this.#now = now;
    this.#opts = opts;
  }

  start(label: string, total: number | undefined): Progress {
    const bar: Bar = { label, total, done: 0, startedAt: this.#now(), shown: false, ended: false };
    this.#bars.push(bar);
    // Unref'd: a bar never keeps the process alive; the work it shows does, if anything.
    this.#timer ??= setInterval(() => this.redraw(), REDRAW_EVERY_MS).unref();
    return {
      advance: (n = 1) => {
        if (bar.ended) return;
        bar.done += n;
        if (bar.total !== undefined && bar.done >= bar.total) this.#end(bar, true);
      },
      finish: () => this.#end(bar, true),
      abandon: () => this.#end(bar, false),
    };
  }

  /** Shows the bars whose work has lasted long enough and redraws the line. Called by the timer. */
  redraw(): void {
    const now = this.#now();
    let top: Bar | undefined;
    for (const bar of this.#bars) {
      if (now - bar.startedAt >= SHOW_AFTER_MS) bar.shown = true;
      if (bar.shown) top = bar;
    }
    if (!top || this.#lineTaken) return;
    const line = this.#lineOf(top);
    if (top === this.#onLine && line === this.#drawn) return;
    this.#write(`\r${line}${CLEAR_TO_END}`);
    this.#onLine = top;
    this.#drawn = line;
  }

  #end(bar: Bar, completed: boolean): void {
    if (bar.ended) return;
    bar.ended = true;
    this.#bars.splice(this.#bars.indexOf(bar), 1);
    if (bar.shown) {
      // Written now, synchronously: the caller's next output (its result, or the error) must
      // land on a clean line, below the bar's final line.
      if (completed) {
        this.#write(`${this.#lineTaken ? "\n" : "\r"}${this.#lineOf(bar)}${CLEAR_TO_END}\n`);
        this.#onLine = undefined;
        this.#lineTaken = false;
      } else if (this.#onLine === bar) {
        this.#clear();
      }
      this.redraw(); // the next bar, if any, takes the line at once
    }
    if (this.#bars.length === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  #lineOf(bar: Bar): string {
    const state = { label: bar.label, done: bar.done, total: bar.total, elapsedMs: this.#now() - bar.startedAt };
    // A pseudo-terminal may report 0 columns (no size set): then the usual 80.
    return formatProgressLine(state, this.#stream.columns || 80);
  }

  #clear(): void {
    this.#write(`\r${CLEAR_TO_END}`);
    this.#onLine = undefined;
  }

  #write(text: string): void {
    this.#hookOnce();
    this.#writing = true;
    try {
      this.#stream.write(text);
    } finally {
      this.#writing = false;
    }
  }

  /** Hooks the shared streams and the process's exit, once, when the display first writes. */
  #hookOnce(): void {
    if (this.#hooked) return;
    this.#hooked = true;
    for (const stream of this.#opts.sharedWith ?? []) this.#stepAsideFor(stream);
    if (this.#opts.clearOnExit) {
      process.once("exit", () => {
        if (this.#onLine) this.#clear();
      });
    }
  }

  #stepAsideFor(stream: SharingStream): void {
    const write = stream.write;
    const display = this;
    stream.write = function writeBesideTheBar(this: unknown, chunk: string | Uint8Array, ...rest: never[]): boolean {
      if (!display.#writing && chunk.length > 0) {
        if (display.#onLine) display.#clear();
        const last = typeof chunk === "string" ? chunk.at(-1) : chunk.at(-1) === 10 ? "\n" : "";
        display.#lineTaken = last !== "\n";
      }
      return write.call(this, chunk, ...rest);
    };
  }
}
