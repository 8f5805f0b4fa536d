/**
 * Creating datasets: lazy, like every step; the blocks are made (or put) when consumed.
 */
import type { Table } from "apache-arrow";
import { isArrowTable } from "./block.js";
import { isTensor } from "./tensor.js";
import { columnBatchToTable } from "./to-arrow.js";
import { Dataset } from "./dataset.js";
import type { CreateOptions, Row, Tensor, TypedArray } from "./types.js";

/** Rows { id } for id = 0 .. n−1, an Int64 column, made by read tasks. */
export function range(n: number, opts: CreateOptions = {}): Dataset<{ id: number }> {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`range() takes a non-negative integer, got ${String(n)}`);
  return Dataset.fromPlan({ source: { kind: "range", n, ...checkCreateOptions("range", opts) }, steps: [] });
}

/** Rows { data }: Float64 Tensors of `shape` (default [1]) filled with the row index (Ray's are int64). */
export function rangeTensor(n: number, opts: CreateOptions & { shape?: readonly number[] } = {}): Dataset<{ data: Tensor<Float64Array> }> {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`rangeTensor() takes a non-negative integer, got ${String(n)}`);
  const { shape = [1], ...createOpts } = opts;
  if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new RangeError(`rangeTensor() option shape must be an array of positive integers, got ${JSON.stringify(shape)}`);
  }
  return Dataset.fromPlan({ source: { kind: "rangeTensor", n, shape: [...shape], ...checkCreateOptions("rangeTensor", createOpts) }, steps: [] });
}

/** Rows { data } along the first axis (numbers of a typed array, Tensors of a Tensor); a block per array. */
export function fromNumpy(arrays: TypedArray | readonly TypedArray[]): Dataset<{ data: number }>;
export function fromNumpy(arrays: Tensor | readonly Tensor[]): Dataset<{ data: Tensor }>;
export function fromNumpy(arrays: TypedArray | Tensor | readonly (TypedArray | Tensor)[]): Dataset<{ data: number }> | Dataset<{ data: Tensor }> {
  const list = Array.isArray(arrays) ? arrays : [arrays];
  const tables = list.map((array, i) => {
    if (isTensor(array)) {
      // A 1-D tensor is a column of numbers, as numpy's 1-D arrays are.
      return columnBatchToTable({ data: array.shape.length === 1 ? array.data : array });
    }
    if (ArrayBuffer.isView(array) && !(array instanceof DataView)) return columnBatchToTable({ data: array as TypedArray });
    throw new TypeError(`fromNumpy() takes typed arrays or Tensors ({ data, shape }); item ${i} is neither`);
  });
  return Dataset.fromPlan<{ data: number }>({ source: { kind: "tables", tables, name: "FromNumpy" }, steps: [] });
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
