/**
 * Blocks: the unit of data that tasks pass through the object store.
 *
 * A block is an Arrow table, but it travels as Arrow IPC stream bytes, not as a Table: a Table is
 * a graph of class instances (Schema, Field, Data, Vector, with methods such as
 * `dictionary.isValid`), which tsray's structured-clone serialization refuses (functions) or
 * would strip of their prototypes. IPC bytes are one Uint8Array, which the object store keeps
 * zero-copy (shared memory, from 100 KB), and `tableFromIPC` reads back as views of those bytes
 * without copying the column buffers. The row count travels beside the bytes, so counting and
 * limiting need not decode anything.
 */
import { Table, tableFromIPC, tableToIPC } from "apache-arrow";
import type { ObjectRef } from "tsray";

/** What a task returns and the store holds for one block. */
export interface StoredBlock {
  readonly ipc: Uint8Array;
  readonly numRows: number;
}
export type BlockRef = ObjectRef<StoredBlock>;

export function encodeBlock(table: Table): StoredBlock {
  return { ipc: tableToIPC(table, "stream"), numRows: table.numRows };
}

export function decodeBlock(block: StoredBlock): Table {
  return tableFromIPC(block.ipc);
}

/** True for an apache-arrow Table, also one made by another copy of the library. */
export function isArrowTable(value: unknown): value is Table {
  if (value instanceof Table) return true;
  const v = value as { numRows?: unknown; schema?: unknown; batches?: unknown } | null;
  return typeof v === "object" && v !== null && typeof v.numRows === "number" && typeof v.schema === "object" && Array.isArray(v.batches);
}

/** Tables of one output, as one table (concat-tables.ts: schemas unified, empty tables left out). */
export { concatTables } from "./concat-tables.js";
