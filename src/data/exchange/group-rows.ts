/** Groups of equal keys, in key order (nulls last): what groupby's aggregate and mapGroups work on. */
import type { Table } from "apache-arrow";
import type { Aggregation } from "../agg.js";
import { tableToRows } from "../from-arrow.js";
import { rowsToTable } from "../to-arrow.js";
import { takeRows } from "../take-rows.js";
import { columnsOf, tableOfColumns } from "../tensor.js";
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

/**
 * One row per group: the key columns (their types kept), then each aggregation's result by name,
 * groups in key order. Each group goes to the accumulators as one table, as a block would.
 */
export function aggregateTable(table: Table, keys: readonly string[], aggs: readonly Aggregation[]): Table {
  const groups = groupIndices(table, keys);
  const keyColumns = takeRows(table.select(keys as string[]), groups.map((g) => g[0]!));
  if (groups.length === 0) return keyColumns;
  // A custom aggregation's init gets its group's key: a value, or an array of values for several keys.
  const keyValues = aggs.some((a) => a.recipe?.fn === "custom" || a.recipe === undefined) ? tableToRows(keyColumns) : [];
  const results = groups.map((group, g) => {
    const groupTable = takeRows(table, group);
    const key = keyValues[g] === undefined ? null : keys.length === 1 ? keyValues[g]![keys[0]!] : keys.map((k) => keyValues[g]![k]);
    return Object.fromEntries(aggs.map((agg) => {
      const acc = agg.accumulator(key);
      acc.add(groupTable);
      return [agg.name, acc.result()];
    }));
  });
  return tableOfColumns([...columnsOf(keyColumns), ...columnsOf(rowsToTable(results))]);
}
