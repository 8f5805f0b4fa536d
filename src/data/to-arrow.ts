/**
 * JS values → Arrow, as the contract's header says: number → Float64, bigint → Int64, boolean →
 * Bool, string → Utf8, Uint8Array → Binary, Date → Timestamp (ms), null/undefined → null, arrays
 * and objects → List and Struct (as apache-arrow infers them), Tensors of one shape → a tensor
 * column (tensor.ts); a typed-array column of a "numpy" batch keeps its element type, without a copy.
 */
import {
  Binary, Bool, Float64, Int64, makeVector, Null, TimestampMillisecond, Utf8, vectorFromArray, type DataType, type Table,
} from "apache-arrow";
import { isArrowTable } from "./block.js";
import { isTensor, tableOfColumns, tensorBatchColumn, tensorRowsColumn, type TypedColumn } from "./tensor.js";
import type { ColumnBatch, Tensor } from "./types.js";

/** A table of these rows; columns in order of first appearance, missing values null. */
export function rowsToTable(rows: readonly object[]): Table {
  const names: string[] = [];
  const seen = new Set<string>();
  for (const [i, row] of rows.entries()) {
    if (typeof row !== "object" || row === null || Array.isArray(row)) {
      throw new TypeError(`row ${i} is ${describeValue(row)}, not an object of columns ({ column: value })`);
    }
    for (const key of Object.keys(row)) if (!seen.has(key)) { seen.add(key); names.push(key); }
  }
  return tableOfColumns(names.map((name) => [name, columnOf(name, rows.map((row) => (row as Record<string, unknown>)[name]))]));
}

/** A table of a "numpy" batch: each column a typed array (kept as is) or an array of values. */
export function columnBatchToTable(batch: ColumnBatch): Table {
  const columns: [string, TypedColumn][] = [];
  let length: number | undefined;
  for (const [name, column] of Object.entries(batch)) {
    let typed: TypedColumn;
    if (isTensor(column)) {
      typed = tensorBatchColumn(name, column);
    } else if (ArrayBuffer.isView(column)) {
      // Uint8ClampedArray has no Arrow type of its own: its bytes are Uint8.
      const view = column instanceof Uint8ClampedArray ? new Uint8Array(column.buffer, column.byteOffset, column.length) : column;
      typed = { vector: makeVector(view as Exclude<typeof view, DataView | Uint8ClampedArray>) };
    } else if (Array.isArray(column)) {
      typed = columnOf(name, column);
    } else {
      throw new TypeError(`column '${name}' of a batch is ${describeValue(column)}; a column is a typed array, a Tensor or an array of values`);
    }
    const n = typed.vector.length;
    if (length !== undefined && n !== length) {
      throw new RangeError(`column '${name}' of a batch has ${n} values, but the columns before it have ${length}`);
    }
    length = n;
    columns.push([name, typed]);
  }
  return tableOfColumns(columns);
}

/** Whatever a batch UDF returned (a Table, an array of rows or a ColumnBatch), as a table. */
export function batchOutputToTable(output: unknown, udfName: string): Table {
  if (isArrowTable(output)) return output;
  if (Array.isArray(output)) return rowsToTable(output);
  if (typeof output === "object" && output !== null && !ArrayBuffer.isView(output)) return columnBatchToTable(output as ColumnBatch);
  throw new TypeError(`${udfName} returned ${describeValue(output)}; a batch UDF returns a ColumnBatch ({ column: values }), an array of rows or an Arrow Table`);
}

function columnOf(column: string, values: unknown[]): TypedColumn {
  const type = inferType(column, values);
  if (type === "tensor") {
    if (values.some((v) => v === null || v === undefined)) throw new TypeError(`column '${column}' holds tensors and nulls; a tensor column cannot hold nulls yet`);
    return tensorRowsColumn(column, values as Tensor[]);
  }
  if (type === undefined) return { vector: vectorFromArray(values.map(normalizeNested)) };
  const normalized = type instanceof Null ? values.map(() => null) : values.map((v) => (v === undefined ? null : v));
  return { vector: vectorFromArray(normalized, type) };
}

/** The Arrow type of a column of scalars; undefined for nested values (left to apache-arrow's inference). */
function inferType(column: string, values: readonly unknown[]): DataType | "tensor" | undefined {
  let kind: string | undefined;
  for (const value of values) {
    if (value === null || value === undefined) continue;
    const k = kindOf(value);
    if (kind === undefined) kind = k;
    else if (kind !== k) throw new TypeError(`column '${column}' mixes ${kind} and ${k} values; a column holds one type (and nulls)`);
  }
  switch (kind) {
    case undefined: return new Null();
    case "number": return new Float64();
    case "bigint": return new Int64();
    case "boolean": return new Bool();
    case "string": return new Utf8();
    case "binary": return new Binary();
    case "date": return new TimestampMillisecond();
    case "tensor": return "tensor";
    default: return undefined;
  }
}

function kindOf(value: unknown): string {
  if (value instanceof Uint8Array) return "binary";
  if (isTensor(value)) return "tensor";
  if (value instanceof Date) return "date";
  if (Array.isArray(value) || ArrayBuffer.isView(value)) return "list";
  return typeof value;
}

/** Nested values as apache-arrow's inference takes them: typed arrays as plain arrays, undefined as null. */
function normalizeNested(value: unknown): unknown {
  if (value === undefined) return null;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<unknown>);
  return value;
}

export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (typeof value === "object") return `an object (${value.constructor?.name ?? "no prototype"})`;
  return `a ${typeof value} (${String(value).slice(0, 40)})`;
}
