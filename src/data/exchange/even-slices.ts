/** [start, end) ranges splitting n rows into `parts` nearly equal slices, in order; empty slices kept so the count is exact. */
export function evenSlices(n: number, parts: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < parts; i++) out.push([Math.floor((i * n) / parts), Math.floor(((i + 1) * n) / parts)]);
  return out;
}
