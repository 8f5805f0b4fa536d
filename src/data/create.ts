/**
 * Creating datasets: lazy, like every step; the blocks are made (or put) when consumed.
 */
import type { Table } from "apache-arrow";
import { isArrowTable } from "./block.js";
import { Dataset } from "./dataset.js";
import type { CreateOptions, Row, Tensor, TypedArray } from "./types.js";

/** Rows { id } for id = 0 .. n−1, an Int64 column, made by read tasks. */
export function range(n: number, opts: CreateOptions = {}): Dataset<{ id: number }> {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`range() takes a non-negative integer, got ${String(n)}`);
  return Dataset.fromPlan({ source: { kind: "range", n, ...checkCreateOptions("range", opts) }, steps: [] });
}

type ItemRow<T> = T extends readonly unknown[] | TypedArray | Date | Tensor ? { item: T } : T extends object ? T : { item: T };

/** One row per item; an item that is not a plain object becomes { item }. */
export function fromItems<T>(items: readonly T[], opts: CreateOptions = {}): Dataset<ItemRow<T>> {
  if (!Array.isArray(items)) throw new TypeError("fromItems() takes an array of items");
  const rows = items.map((item) => (isPlainObject(item) ? item : { item })) as object[];
  return Dataset.fromPlan({ source: { kind: "items", items: rows, ...checkCreateOptions("fromItems", opts) }, steps: [] });
}

/** A block per table. */
export function fromArrow<R extends object = Row>(tables: Table | readonly Table[]): Dataset<R> {
  const list = isArrowTable(tables) ? [tables] : tables;
  if (!Array.isArray(list) || !list.every(isArrowTable)) throw new TypeError("fromArrow() takes an apache-arrow Table or an array of them");
  return Dataset.fromPlan({ source: { kind: "tables", tables: [...list] }, steps: [] });
}

function checkCreateOptions(method: string, opts: CreateOptions): CreateOptions {
  for (const key of Object.keys(opts)) if (key !== "overrideNumBlocks") throw new TypeError(`${method}() has no option '${key}'`);
  const n = opts.overrideNumBlocks;
  if (n !== undefined && !(Number.isInteger(n) && n > 0)) {
    throw new RangeError(`${method}() option overrideNumBlocks must be a positive integer, got ${String(n)}`);
  }
  return n === undefined ? {} : { overrideNumBlocks: n };
}

function isPlainObject(value: unknown): value is object {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
