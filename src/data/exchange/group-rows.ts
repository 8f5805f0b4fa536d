/** Groups of equal keys, in key order (nulls last): what groupby's aggregate and mapGroups work on. */
import type { Table } from "apache-arrow";
import type { Aggregation } from "../agg.js";
import { tableToRows } from "../from-arrow.js";
import { rowsToTable } from "../to-arrow.js";
import type { Row } from "../types.js";
import { keyRows, rowComparator, sameKeys } from "./key-order.js";

/** The row indices of each group, groups in ascending key order, rows in input order within a group. */
export function groupIndices(table: Table, keys: readonly string[]): number[][] {
  const keyed = keyRows(table, keys);
  const compareKeys = rowComparator(keys, keys.map(() => false));
  const order = keyed.map((_, i) => i).sort((a, b) => compareKeys(keyed[a]!, keyed[b]!));
  const groups: number[][] = [];
  for (const row of order) {
    const last = groups.at(-1);
    if (last && sameKeys(keys, keyed[last[0]!]!, keyed[row]!)) last.push(row);
    else groups.push([row]);
  }
  return groups;
}

function groupsOf(rows: Row[], keys: readonly string[]): Row[][] {
  rows.sort(rowComparator(keys, keys.map(() => false)));
  const groups: Row[][] = [];
  for (const row of rows) {
    const last = groups.at(-1);
    if (last && sameKeys(keys, last[0]!, row)) last.push(row);
    else groups.push([row]);
  }
  return groups;
}

/** One row per group (sorts `rows` in place): its keys, then each aggregation's result by name. */
export function aggregateRows(rows: Row[], keys: readonly string[], aggs: readonly Aggregation[]): Row[] {
  return groupsOf(rows, keys).map((group) => {
    // Each group goes to the accumulators as one table, as a block would.
    const groupTable = rowsToTable(group);
    const out: Row = {};
    for (const key of keys) out[key] = group[0]![key];
    for (const agg of aggs) {
      const acc = agg.accumulator();
      acc.add(groupTable);
      out[agg.name] = acc.result();
    }
    return out;
  });
}
