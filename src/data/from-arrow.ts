/**
 * Arrow → JS values, as the contract's header says: Float*, Int8..Int32, UInt8..UInt32 → number;
 * Int64/UInt64 → number, or a RangeError naming the column beyond ±(2^53−1) (use "arrow" batches
 * for such data); Bool → boolean; Utf8 → string; Binary → Uint8Array; Timestamp/Date → Date;
 * List/Struct → arrays/objects; a tensor column → a Tensor per row, or one Tensor of shape
 * [rows, ...] in a "numpy" batch; null → null.
 */
import { int64ToFloat64 } from "./int64-words.js";
import { DataType, type Int, type Table, type Vector } from "apache-arrow";
import { tensorOfColumn, tensorPerRow, tensorShapeOf } from "./tensor.js";
import type { ColumnBatch, Row } from "./types.js";

export function tableToRows(table: Table): Row[] {
  const names = table.schema.fields.map((f) => f.name);
  const columns = table.schema.fields.map((f) => {
    const shape = tensorShapeOf(f);
    return shape ? tensorPerRow(table.getChild(f.name)!, shape) : columnValues(f.name, table.getChild(f.name)!);
  });
  const rows: Row[] = new Array(table.numRows);
  for (let i = 0; i < table.numRows; i++) {
    const row: Row = {};
    for (let c = 0; c < names.length; c++) row[names[c]!] = columns[c]![i];
    rows[i] = row;
  }
  return rows;
}

/** A "numpy" batch: numeric columns without nulls as typed arrays (views where Arrow allows), others as arrays. */
export function tableToColumnBatch(table: Table): ColumnBatch {
  const batch: ColumnBatch = {};
  for (const field of table.schema.fields) {
    const vector = table.getChild(field.name)!;
    const type = vector.type as DataType;
    const shape = tensorShapeOf(field);
    if (shape) {
      batch[field.name] = tensorOfColumn(vector, shape);
    } else if (vector.nullCount === 0 && (DataType.isFloat(type) || DataType.isInt(type))) {
      batch[field.name] = is64BitInt(type) ? int64AsFloat64(field.name, vector) : (vector.toArray() as Float64Array);
    } else {
      batch[field.name] = columnValues(field.name, vector);
    }
  }
  return batch;
}

/** Every value of a column as JS values. */
export function columnValues(name: string, vector: Vector): unknown[] {
  const type = vector.type as DataType;
  const n = vector.length;
  const out: unknown[] = new Array(n);
  const plainNumbers = vector.nullCount === 0 && (DataType.isFloat(type) || (DataType.isInt(type) && !is64BitInt(type)));
  if (plainNumbers || (vector.nullCount === 0 && is64BitInt(type))) {
    const typed = plainNumbers ? (vector.toArray() as ArrayLike<number>) : int64AsFloat64(name, vector);
    for (let i = 0; i < n; i++) out[i] = typed[i];
    return out;
  }
  for (let i = 0; i < n; i++) out[i] = toJs(name, type, vector.get(i));
  return out;
}

function toJs(column: string, type: DataType, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") return bigintToNumber(column, value);
  if (DataType.isTimestamp(type) || DataType.isDate(type)) return value instanceof Date ? value : new Date(Number(value));
  if (DataType.isList(type) || DataType.isFixedSizeList(type)) {
    const child = (type as unknown as { children: { type: DataType }[] }).children[0]!.type;
    return Array.from(value as Iterable<unknown>, (v) => toJs(column, child, v));
  }
  if (DataType.isStruct(type)) {
    const out: Row = {};
    for (const field of (type as unknown as { children: { name: string; type: DataType }[] }).children) {
      out[field.name] = toJs(column, field.type, (value as Record<string, unknown>)[field.name]);
    }
    return out;
  }
  return value;
}

function is64BitInt(type: DataType): boolean {
  return DataType.isInt(type) && (type as Int).bitWidth === 64;
}

function int64AsFloat64(column: string, vector: Vector): Float64Array {
  const source = vector.toArray() as BigInt64Array | BigUint64Array;
  return int64ToFloat64(source, (i) => bigintToNumber(column, source[i]!) as never);
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

function bigintToNumber(column: string, value: bigint): number {
  if (value > MAX_SAFE || value < MIN_SAFE) {
    throw new RangeError(`column '${column}' holds ${value}, beyond ±(2^53−1), which a JS number cannot hold exactly; use batchFormat "arrow" for such data`);
  }
  return Number(value);
}
