/**
 * JS values → Arrow, as the contract's header says: number → Float64, bigint → Int64, boolean →
 * Bool, string → Utf8, Uint8Array → Binary, Date → Timestamp (ms), null/undefined → null, arrays
 * and objects → List and Struct (as apache-arrow infers them); a typed-array column of a "numpy"
 * batch keeps its element type, without a copy.
 */
import {
  Binary, Bool, Float64, Int64, makeVector, Null, Table, TimestampMillisecond, Utf8, vectorFromArray,
  type DataType, type Vector,
} from "apache-arrow";
import { isArrowTable } from "./block.js";
import type { ColumnBatch } from "./types.js";

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
  const columns: Record<string, Vector> = {};
  for (const name of names) {
    columns[name] = vectorOf(name, rows.map((row) => (row as Record<string, unknown>)[name]));
  }
  return new Table(columns);
}

/** A table of a "numpy" batch: each column a typed array (kept as is) or an array of values. */
export function columnBatchToTable(batch: ColumnBatch): Table {
  const columns: Record<string, Vector> = {};
  let length: number | undefined;
  for (const [name, column] of Object.entries(batch)) {
    let vector: Vector;
    if (ArrayBuffer.isView(column)) {
      // Uint8ClampedArray has no Arrow type of its own: its bytes are Uint8.
      const typed = column instanceof Uint8ClampedArray ? new Uint8Array(column.buffer, column.byteOffset, column.length) : column;
      vector = makeVector(typed as Exclude<typeof typed, DataView | Uint8ClampedArray>);
    } else if (Array.isArray(column)) {
      vector = vectorOf(name, column);
    } else {
      throw new TypeError(`column '${name}' of a batch is ${describeValue(column)}; a column is a typed array or an array of values (tensor columns are not supported yet)`);
    }
    if (length !== undefined && vector.length !== length) {
      throw new RangeError(`column '${name}' of a batch has ${vector.length} values, but the columns before it have ${length}`);
    }
    length = vector.length;
    columns[name] = vector;
  }
  return new Table(columns);
}

/** Whatever a batch UDF returned (a Table, an array of rows or a ColumnBatch), as a table. */
export function batchOutputToTable(output: unknown, udfName: string): Table {
  if (isArrowTable(output)) return output;
  if (Array.isArray(output)) return rowsToTable(output);
  if (typeof output === "object" && output !== null && !ArrayBuffer.isView(output)) return columnBatchToTable(output as ColumnBatch);
  throw new TypeError(`${udfName} returned ${describeValue(output)}; a batch UDF returns a ColumnBatch ({ column: values }), an array of rows or an Arrow Table`);
}

function vectorOf(column: string, values: unknown[]): Vector {
  const type = inferType(column, values);
  if (type === undefined) return vectorFromArray(values.map(normalizeNested));
  const normalized = type instanceof Null ? values.map(() => null) : values.map((v) => (v === undefined ? null : v));
  return vectorFromArray(normalized, type);
}

/** The Arrow type of a column of scalars; undefined for nested values (left to apache-arrow's inference). */
function inferType(column: string, values: readonly unknown[]): DataType | undefined {
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
    default: return undefined;
  }
}

function kindOf(value: unknown): string {
  if (value instanceof Uint8Array) return "binary";
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
