/**
 * Steps on columns alone (select, drop, rename) and the placing of a computed column, on Arrow
 * tables. They run in the block's task like UDF steps. A 0-row block with no columns (what a
 * row UDF that kept nothing leaves) has no schema to check, so it passes through.
 */
import { Table, type Vector } from "apache-arrow";
import type { ColumnsStage } from "./plan.js";

export function applyColumnsStage(stage: ColumnsStage, table: Table): Table {
  if (table.numRows === 0 && table.numCols === 0) return table;
  const present = table.schema.fields.map((f) => f.name);
  const check = (names: Iterable<string>) => {
    for (const name of names) {
      if (!present.includes(name)) throw new Error(`${stage.name}: no column '${name}'; the columns are ${present.join(", ") || "(none)"}`);
    }
  };
  switch (stage.kind) {
    case "selectColumns":
      check(stage.columns);
      return tableOf(stage.columns.map((name) => [name, table.getChild(name)!]));
    case "dropColumns":
      check(stage.columns);
      return tableOf(present.filter((name) => !stage.columns.includes(name)).map((name) => [name, table.getChild(name)!]));
    case "renameColumns":
      check(Object.keys(stage.names));
      return tableOf(present.map((name) => [stage.names[name] ?? name, table.getChild(name)!]));
  }
}

/** The table with `column` added at the end, or replaced where it is. */
export function withColumn(table: Table, column: string, vector: Vector): Table {
  const entries: [string, Vector][] = table.schema.fields.map((f) => [f.name, table.getChild(f.name)!]);
  const at = entries.findIndex(([name]) => name === column);
  if (at >= 0) entries[at] = [column, vector];
  else entries.push([column, vector]);
  return tableOf(entries);
}

function tableOf(entries: readonly (readonly [string, Vector])[]): Table {
  const names = entries.map(([name]) => name);
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate !== undefined) throw new Error(`two columns would be named '${duplicate}'`);
  return new Table(Object.fromEntries(entries));
}
