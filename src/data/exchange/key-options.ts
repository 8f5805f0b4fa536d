/** Checking the keys and options of the all-to-all methods as they are called (not at consumption). */

/** One key or a non-empty list of keys, as a list. */
export function keyList(method: string, key: unknown): string[] {
  const keys = Array.isArray(key) ? key : [key];
  if (keys.length === 0 || !keys.every((k) => typeof k === "string" && k !== "")) {
    throw new TypeError(`${method}() takes a column name or a non-empty list of column names`);
  }
  return keys as string[];
}

/** descending as one boolean for every key or one per key. */
export function descendingList(keys: readonly string[], descending: unknown): boolean[] {
  if (descending === undefined || typeof descending === "boolean") return keys.map(() => descending === true);
  if (Array.isArray(descending) && descending.length === keys.length && descending.every((d) => typeof d === "boolean")) return [...descending];
  throw new TypeError(`sort() option descending must be a boolean or one boolean per key (${keys.length})`);
}

export function checkBlockCount(method: string, option: string, n: unknown): number {
  if (!Number.isInteger(n) || (n as number) <= 0) throw new RangeError(`${method}() ${option} must be a positive integer, got ${String(n)}`);
  return n as number;
}
