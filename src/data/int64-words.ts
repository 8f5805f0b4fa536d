/**
 * Int64 columns read and written as pairs of 32-bit words (little-endian, as Arrow lays them out),
 * so that numbers within ±(2^53−1) go in and out without making a BigInt per value, which costs
 * an allocation each and dominated range() and the Int64 → Float64 batch columns.
 */
const TWO_32 = 2 ** 32;

/** Writes the integer `value` (|value| < 2^53) as element `i` of the Int64 data under `words`. */
export function setInt64(words: Int32Array, i: number, value: number): void {
  words[2 * i] = value % TWO_32 | 0;
  words[2 * i + 1] = Math.floor(value / TWO_32);
}

/** A BigInt64Array of these integers (each |value| < 2^53). */
export function int64Array(length: number, valueAt: (i: number) => number): BigInt64Array {
  const values = new BigInt64Array(length);
  const words = new Int32Array(values.buffer);
  for (let i = 0; i < length; i++) setInt64(words, i, valueAt(i));
  return values;
}

/** The integers start, start + 1, ..., end − 1 (what range() makes): below 2^31, only the low words need writing. */
export function int64Range(start: number, end: number): BigInt64Array {
  if (start < 0 || end > 2 ** 31) return int64Array(end - start, (i) => start + i);
  const values = new BigInt64Array(end - start);
  const words = new Int32Array(values.buffer);
  for (let i = 0, v = start; v < end; i += 2, v++) words[i] = v;
  return values;
}

/**
 * The values as numbers; `outOfRange(i)` is called (and should throw) for one beyond ±(2^53−1).
 * Unsigned data reads its high word unsigned.
 */
export function int64ToFloat64(source: BigInt64Array | BigUint64Array, outOfRange: (i: number) => never): Float64Array {
  const words = new Int32Array(source.buffer, source.byteOffset, source.length * 2);
  const unsigned = source instanceof BigUint64Array;
  const out = new Float64Array(source.length);
  for (let i = 0; i < source.length; i++) {
    const high = unsigned ? words[2 * i + 1]! >>> 0 : words[2 * i + 1]!;
    const value = high * TWO_32 + (words[2 * i]! >>> 0);
    if (value > Number.MAX_SAFE_INTEGER || value < Number.MIN_SAFE_INTEGER) outOfRange(i);
    out[i] = value;
  }
  return out;
}
