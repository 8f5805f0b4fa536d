// The work piscina's threads do in the benchmark: the same as tsray's tasks.
export function noop() {
  return 0;
}

/**
 * Reads every element. Four sums in turn, so the loop waits on memory rather than on each
 * addition's latency: the read then measures how fast the data can be reached, which is what
 * the benchmark compares.
 */
export function sum(xs) {
  let a = 0, b = 0, c = 0, d = 0;
  let i = 0;
  for (const end = xs.length - 3; i < end; i += 4) {
    a += xs[i];
    b += xs[i + 1];
    c += xs[i + 2];
    d += xs[i + 3];
  }
  for (; i < xs.length; i++) a += xs[i];
  return a + b + c + d;
}

export default noop;

/** The length of what it was sent (the cold big-array rounds' task). */
export function length(xs) {
  return xs.length;
}
