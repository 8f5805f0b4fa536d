/**
 * Hive partitioning of a block for writeParquet: its rows grouped by the values of the partition
 * columns, each group without those columns and with its folder "col=value/col2=value2" (values
 * as text, URI-encoded as pyarrow writes them; null as "__HIVE_DEFAULT_PARTITION__", as Hive and
 * pyarrow do). Groups are made of slices of runs of equal values, so every other column keeps its
 * Arrow type exactly.
 */
import type { Table } from "apache-arrow";
import { concatTables } from "../block.js";
import { columnValues } from "../from-arrow.js";

export const HIVE_NULL = "__HIVE_DEFAULT_PARTITION__";

export function partitionTable(table: Table, partitionCols: readonly string[]): { folder: string; table: Table }[] {
  const names = table.schema.fields.map((f) => f.name);
  for (const col of partitionCols) {
    if (!names.includes(col)) throw new Error(`writeParquet(): no partition column '${col}'; the columns are ${names.join(", ")}`);
  }
  if (partitionCols.length === names.length) throw new Error("writeParquet(): partitionCols name every column, which would leave the files with none");
  const keys = partitionCols.map((col) => columnValues(col, table.getChild(col)!));
  const folderOf = (row: number) => partitionCols.map((col, c) => `${encodeURIComponent(col)}=${folderValue(keys[c]![row])}`).join("/");
  const kept = table.select(names.filter((n) => !partitionCols.includes(n)));
  const runs = new Map<string, Table[]>();
  let start = 0;
  let current = folderOf(0);
  for (let row = 1; row <= table.numRows; row++) {
    const folder = row < table.numRows ? folderOf(row) : undefined;
    if (folder === current) continue;
    const list = runs.get(current) ?? [];
    list.push(kept.slice(start, row));
    runs.set(current, list);
    start = row;
    current = folder!;
  }
  return [...runs].map(([folder, slices]) => ({ folder, table: concatTables(slices) }));
}

function folderValue(value: unknown): string {
  if (value === null || value === undefined) return HIVE_NULL;
  return encodeURIComponent(value instanceof Date ? value.toISOString() : String(value));
}
