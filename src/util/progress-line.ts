/**
 * The text of one progress bar, as a pure function of its counts and time, so that what the
 * terminal shows can be tested without a terminal:
 *
 *   Pool.map(square)  45%|█████████▌           | 18/40 [00:01<00:01, 17.9 it/s]
 *   ActorPool.mapUnordered 18 [00:01, 17.9 it/s]        (total unknown)
 */

export interface ProgressState {
  label: string;
  done: number;
  /** Undefined when the work's length is not known: no bar, no percentage, no ETA. */
  total?: number;
  elapsedMs: number;
}

/** The bar is never wider than this, however wide the terminal: a longer one reads no better. */
const MAX_BAR_WIDTH = 30;
/** Narrower than this, a bar says nothing the percentage does not: it is left out. */
const MIN_BAR_WIDTH = 5;
/** A label is not shortened below this: the numbers lose a part before it becomes unreadable. */
const MIN_LABEL = 8;
const FULL = "█";
/** Partial blocks, one to seven eighths: the bar moves by an eighth of a cell. */
const EIGHTHS = ["▏", "▎", "▍", "▌", "▋", "▊", "▉"];

/**
 * The line for `state`, at most `columns - 1` characters long: a line that filled the last
 * column would make the terminal wrap, and `\r` would then no longer bring the cursor back to
 * its start.
 */
export function formatProgressLine(state: ProgressState, columns: number): string {
  const width = Math.max(1, columns - 1);
  const { label, done, total } = state;
  const known = total !== undefined && total > 0;
  const counts = known ? `${done}/${total}` : `${done}`;
  const times = known && done < total ? `${clock(state.elapsedMs)}<${eta(state)}` : clock(state.elapsedMs);
  const tail = ` ${counts} [${times}, ${rate(done, state.elapsedMs)}]`;
  if (!known) return fit(label, [tail, ` ${counts}`], width);
  const fraction = Math.min(1, done / total);
  const percent = `${String(Math.floor(fraction * 100)).padStart(3)}%`;
  const room = width - label.length - 1 - percent.length - 2 - tail.length;
  if (room < MIN_BAR_WIDTH) return fit(label, [` ${percent}${tail}`, ` ${percent} ${counts}`], width);
  return `${label} ${percent}|${bar(fraction, Math.min(MAX_BAR_WIDTH, room))}|${tail}`;
}

/**
 * The label and the first of `tails` (longest first) that fit in `width`, the label shortened
 * down to MIN_LABEL characters if need be; past that, the next, shorter tail.
 */
function fit(label: string, tails: string[], width: number): string {
  for (const tail of tails) {
    const room = width - tail.length;
    if (label.length <= room) return label + tail;
    if (room > MIN_LABEL) return `${label.slice(0, room - 1)}…${tail}`;
  }
  return (label + tails.at(-1)!).slice(0, width);
}

function bar(fraction: number, width: number): string {
  const eighths = Math.floor(fraction * width * 8);
  const full = Math.floor(eighths / 8);
  const partial = eighths % 8 === 0 ? "" : EIGHTHS[(eighths % 8) - 1];
  return (FULL.repeat(full) + partial).padEnd(width);
}

/** Items per second, or seconds per item when slower than one a second (as tqdm shows them). */
function rate(done: number, elapsedMs: number): string {
  if (done === 0 || elapsedMs <= 0) return "? it/s";
  const perSecond = (done * 1000) / elapsedMs;
  return perSecond >= 1 ? `${decimal(perSecond)} it/s` : `${decimal(1 / perSecond)} s/it`;
}

/** Three significant digits or so: 0.123, 1.23, 12.3, 123. */
function decimal(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

function eta({ done, total, elapsedMs }: ProgressState): string {
  if (done === 0 || total === undefined) return "?";
  return clock(((total - done) * elapsedMs) / done);
}

/** mm:ss, or h:mm:ss from an hour on. */
export function clock(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const [h, m, s] = [Math.floor(seconds / 3600), Math.floor(seconds / 60) % 60, seconds % 60];
  const two = (n: number) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${two(m)}:${two(s)}`;
}
