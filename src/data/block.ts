/**
 * Blocks: the unit of data that tasks pass through the object store.
 *
 * A block is an Arrow Table, stored as one: arrow-serializer.ts registers Tables with tsray's
 * serializer, which sends a Table as its Arrow IPC stream bytes (one Uint8Array, kept in shared
 * memory from 100 KB) and reads it back with `tableFromIPC` as views of those bytes, without
 * copying the column buffers. So a block ref is also what toArrowRefs() returns and
 * fromArrowRefs() takes: an ObjectRef<Table>. (Blocks were { ipc, numRows } objects before
 * Tables could be sent; encodeBlock and decodeBlock stay as the names of that boundary.)
 */
import { Table } from "apache-arrow";
import type { ObjectRef } from "tsray";
import "./arrow-serializer.js";

/** What a task returns and the store holds for one block. */
export type StoredBlock = Table;
export type BlockRef = ObjectRef<StoredBlock>;

export function encodeBlock(table: Table): StoredBlock {
  return table;
}

export function decodeBlock(block: StoredBlock): Table {
  return block;
}

/** A block's bytes in memory: its column buffers (as Ray's size_bytes counts them). */
export function blockBytes(block: StoredBlock): number {
  let bytes = 0;
  for (const batch of block.batches) bytes += batch.data.byteLength;
  return bytes;
}

/** True for an apache-arrow Table, also one made by another copy of the library. */
export function isArrowTable(value: unknown): value is Table {
  if (value instanceof Table) return true;
  const v = value as { numRows?: unknown; schema?: unknown; batches?: unknown } | null;
  return typeof v === "object" && v !== null && typeof v.numRows === "number" && typeof v.schema === "object" && Array.isArray(v.batches);
}

/** Tables of one output, as one table (concat-tables.ts: schemas unified, empty tables left out). */
export { concatTables } from "./concat-tables.js";
