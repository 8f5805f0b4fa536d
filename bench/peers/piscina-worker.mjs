// The work piscina's threads do in the benchmark: the same as tsray's tasks.
export function noop() {
  return 0;
}

export function sum(xs) {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s;
}

export default noop;
