/**
 * Steps on columns alone (select, drop, rename) and the placing of a computed column, on Arrow
 * tables. They run in the block's task like UDF steps. A 0-row block with no columns (what a
 * row UDF that kept nothing leaves) has no schema to check, so it passes through.
 */
import type { Table } from "apache-arrow";
import type { ColumnsStage } from "./plan.js";
import { columnsOf, tableOfColumns, type TypedColumn } from "./tensor.js";

export function applyColumnsStage(stage: ColumnsStage, table: Table): Table {
  if (table.numRows === 0 && table.numCols === 0) return table;
  const present = table.schema.fields.map((f) => f.name);
  const check = (names: Iterable<string>) => {
    for (const name of names) {
      if (!present.includes(name)) throw new Error(`${stage.name}: no column '${name}'; the columns are ${present.join(", ") || "(none)"}`);
    }
  };
  const columns = new Map(columnsOf(table));
  switch (stage.kind) {
    case "selectColumns":
      check(stage.columns);
      return tableOf(stage.columns.map((name) => [name, columns.get(name)!]));
    case "dropColumns":
      check(stage.columns);
      return tableOf(present.filter((name) => !stage.columns.includes(name)).map((name) => [name, columns.get(name)!]));
    case "renameColumns":
      check(Object.keys(stage.names));
      return tableOf(present.map((name) => [stage.names[name] ?? name, columns.get(name)!]));
  }
}

/** The table with `column` added at the end, or replaced where it is. */
export function withColumn(table: Table, column: string, typed: TypedColumn): Table {
  const entries = columnsOf(table);
  const at = entries.findIndex(([name]) => name === column);
  if (at >= 0) entries[at] = [column, typed];
  else entries.push([column, typed]);
  return tableOf(entries);
}

function tableOf(entries: readonly (readonly [string, TypedColumn])[]): Table {
  const names = entries.map(([name]) => name);
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate !== undefined) throw new Error(`two columns would be named '${duplicate}'`);
  return tableOfColumns(entries);
}
