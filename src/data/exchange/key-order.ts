/** Comparing rows by key columns: the order sort and groupby share. Nulls come last either way, as the contract says. */
import type { Table } from "apache-arrow";
import type { Row } from "../types.js";

/** Throws, naming the method and the column, if a key is not a column of the table. */
export function checkKeyColumns(method: string, table: Table, keys: readonly string[]): void {
  const names = table.schema.fields.map((f) => f.name);
  for (const key of keys) {
    if (!names.includes(key)) throw new Error(`${method}(): no column '${key}'; the columns are ${names.join(", ") || "(none)"}`);
  }
}

/**
 * The key columns of every row, as rows of raw Arrow values (an Int64 as a bigint, so keys beyond
 * 2^53 compare exactly): what sort and groupby compare, never what users see.
 */
export function keyRows(table: Table, keys: readonly string[]): Row[] {
  const columns = keys.map((k) => table.getChild(k)!);
  return Array.from({ length: table.numRows }, (_, i) => {
    const row: Row = {};
    keys.forEach((k, c) => (row[k] = columns[c]!.get(i)));
    return row;
  });
}

function isNull(value: unknown): boolean {
  return value === null || value === undefined;
}

/** Ascending order of two non-null values; Dates by time, anything else by < and >. */
function compareValues(a: unknown, b: unknown): number {
  const x = a instanceof Date ? a.getTime() : a;
  const y = b instanceof Date ? b.getTime() : b;
  if ((x as number) < (y as number)) return -1;
  if ((x as number) > (y as number)) return 1;
  return 0;
}

/** A comparator of rows by `keys`, each ascending unless descending[i]; nulls last regardless of direction. */
export function rowComparator(keys: readonly string[], descending: readonly boolean[]): (a: Row, b: Row) => number {
  return (a, b) => {
    for (let i = 0; i < keys.length; i++) {
      const x = a[keys[i]!];
      const y = b[keys[i]!];
      if (isNull(x) || isNull(y)) {
        if (isNull(x) && isNull(y)) continue;
        return isNull(x) ? 1 : -1;
      }
      const c = compareValues(x, y);
      if (c !== 0) return descending[i] ? -c : c;
    }
    return 0;
  };
}

/** True if the two rows hold equal keys (null equal to null: nulls form a group, as in Ray). */
export function sameKeys(keys: readonly string[], a: Row, b: Row): boolean {
  return keys.every((k) => (isNull(a[k]) && isNull(b[k])) || (!isNull(a[k]) && !isNull(b[k]) && compareValues(a[k], b[k]) === 0));
}
