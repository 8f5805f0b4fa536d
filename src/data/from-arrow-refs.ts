/**
 * fromArrowRefs: a dataset of Arrow tables already in the object store (what toArrowRefs
 * returns, or what `ray.put(table)` and tasks returning tables made). Blocks are stored as
 * Tables (block.ts), so the refs are the dataset's blocks as they are: nothing is read or copied
 * until consumption, and the row counts come from the blocks when something needs them.
 */
import type { Table } from "apache-arrow";
import type { ObjectRef } from "tsray";
import { MaterializedDataset } from "./dataset.js";
import type { Row } from "./types.js";

/** As Ray's from_arrow_refs: a MaterializedDataset of these blocks, in order. */
export function fromArrowRefs<R extends object = Row>(refs: readonly ObjectRef<Table>[]): MaterializedDataset<R> {
  if (!Array.isArray(refs) || !refs.every(isObjectRefLike)) throw new TypeError("fromArrowRefs() takes an array of ObjectRefs of Arrow tables");
  return MaterializedDataset.ofBlocks<R>([...refs]);
}

function isObjectRefLike(value: unknown): boolean {
  return typeof value === "object" && value !== null && typeof (value as { hex?: unknown }).hex === "function";
}
