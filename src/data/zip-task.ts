/**
 * The task body of Dataset.zip: one left block with the rows of the right dataset that line up
 * with it (given as right blocks and the row range of each), side by side. Clashing right column
 * names get a suffix, as Ray's: "x" becomes "x_1" (or "x_2"... if that is taken too).
 *
 * Workers import this module by its URL (util.remoteExport), so it imports only what the task needs.
 */
import type { Table } from "apache-arrow";
import { concatTables } from "./block.js";
import { columnsOf, tableOfColumns, type TypedColumn } from "./tensor.js";

export const zipTaskModule = import.meta.url;

export interface RowRange { readonly start: number; readonly end: number }

export function zipBlock(left: Table, ranges: readonly RowRange[], ...rights: Table[]): Table {
  const right = concatTables(rights.map((t, i) => t.slice(ranges[i]!.start, ranges[i]!.end)));
  if (right.numRows !== left.numRows) throw new Error(`internal: zip lined up ${right.numRows} rows with a block of ${left.numRows}`);
  const columns: [string, TypedColumn][] = columnsOf(left);
  const taken = new Set(columns.map(([name]) => name));
  for (const [name, column] of columnsOf(right)) {
    let unique = name;
    for (let k = 1; taken.has(unique); k++) unique = `${name}_${k}`;
    taken.add(unique);
    columns.push([unique, column]);
  }
  return tableOfColumns(columns);
}
