/**
 * Parquet column types → Arrow types, from a file's footer alone: the reader builds its columns
 * with these types, and Dataset.schema() of a plain readParquet answers with them without
 * reading any data, so both agree. INT64 → Int64, DOUBLE → Float64, FLOAT → Float32, INT32 →
 * Int32 (or the narrower/unsigned integer its annotation says), strings (UTF8, ENUM, JSON) →
 * Utf8, BOOLEAN → Bool, plain BYTE_ARRAY → Binary (as pyarrow reads it), timestamps and dates
 * → Timestamp in milliseconds (rows give Date; finer units are truncated to milliseconds, which
 * is all a JS Date holds), DECIMAL → Float64. Tensor columns that writeParquet wrote come back
 * as tensor columns. Other nested columns (lists, maps, structs) have no type here: the reader
 * lets apache-arrow infer one from the values.
 */
import {
  Binary, Bool, Field, Float32, Float64, Int16, Int32, Int64, Int8, Schema, TimestampMillisecond, Uint16, Uint32, Uint64, Uint8, Utf8,
  type DataType,
} from "apache-arrow";
import type { FileMetaData, SchemaElement } from "hyparquet";
import { tensorBatchColumn, type TypedColumn } from "../tensor.js";
import type { TypedArray } from "../types.js";

/**
 * A top-level column of a Parquet file: its name and, if it is flat, its Arrow type. A tensor
 * column (a LIST of a primitive whose shape writeParquet recorded in the file's metadata) has
 * `tensorShape`, the shape of one row's tensor, and `type`, its element type.
 */
export interface ParquetColumn { readonly name: string; readonly type: DataType | undefined; readonly tensorShape?: readonly number[] }

/** The file metadata key where writeParquet records tensor columns' shapes (write/parquet-file.ts). */
const TENSOR_SHAPES_KEY = "tsray.tensor_shapes";

/** The top-level columns of a file, in file order. */
export function parquetColumns(metadata: FileMetaData): ParquetColumn[] {
  const columns: ParquetColumn[] = [];
  const schema = metadata.schema;
  const tensorShapes = tensorShapesOf(metadata);
  let i = 1;
  for (let c = 0; c < (schema[0]?.num_children ?? 0); c++) {
    const element = schema[i]!;
    const nested = (element.num_children ?? 0) > 0 || element.repetition_type === "REPEATED";
    const shape = tensorShapes[element.name];
    const leaf = schema[i + 2];
    if (nested && shape && element.num_children === 1 && schema[i + 1]?.num_children === 1 && leaf && !leaf.num_children && arrowTypeOf(leaf)) {
      columns.push({ name: element.name, type: arrowTypeOf(leaf), tensorShape: shape });
    } else {
      columns.push({ name: element.name, type: nested ? undefined : arrowTypeOf(element) });
    }
    i = skipSubtree(schema, i);
  }
  return columns;
}

function tensorShapesOf(metadata: FileMetaData): Record<string, number[]> {
  const value = metadata.key_value_metadata?.find((kv) => kv.key === TENSOR_SHAPES_KEY)?.value;
  if (!value) return {};
  try {
    const shapes = JSON.parse(value) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(shapes).filter(([, s]) => Array.isArray(s) && s.every((d) => Number.isInteger(d) && d >= 0))) as Record<string, number[]>;
  } catch {
    return {};
  }
}

/** The index after the element at `i` and all its descendants. */
function skipSubtree(schema: readonly SchemaElement[], i: number): number {
  const children = schema[i]!.num_children ?? 0;
  let next = i + 1;
  for (let c = 0; c < children; c++) next = skipSubtree(schema, next);
  return next;
}

export function arrowTypeOf(element: SchemaElement): DataType | undefined {
  const converted = element.converted_type;
  const logical = element.logical_type;
  if (converted === "DECIMAL" || logical?.type === "DECIMAL") return new Float64();
  if (converted === "DATE" || logical?.type === "DATE" || converted === "TIMESTAMP_MILLIS" || converted === "TIMESTAMP_MICROS"
    || logical?.type === "TIMESTAMP" || element.type === "INT96") return new TimestampMillisecond();
  if (converted === "UTF8" || converted === "ENUM" || converted === "JSON" || logical?.type === "STRING" || logical?.type === "ENUM"
    || logical?.type === "JSON" || logical?.type === "UUID") return new Utf8();
  switch (element.type) {
    case "BOOLEAN": return new Bool();
    case "INT32": return int32Type(element);
    case "INT64": return converted === "UINT_64" || (logical?.type === "INTEGER" && !logical.isSigned) ? new Uint64() : new Int64();
    case "FLOAT": return new Float32();
    case "DOUBLE": return new Float64();
    case "BYTE_ARRAY": return new Binary();
    case "FIXED_LEN_BYTE_ARRAY": return logical?.type === "FLOAT16" ? new Float32() : new Binary();
    default: return undefined;
  }
}

function int32Type(element: SchemaElement): DataType {
  const logical = element.logical_type;
  const bits = logical?.type === "INTEGER" ? logical.bitWidth : undefined;
  const signed = logical?.type === "INTEGER" ? logical.isSigned : true;
  switch (element.converted_type) {
    case "INT_8": return new Int8();
    case "INT_16": return new Int16();
    case "UINT_8": return new Uint8();
    case "UINT_16": return new Uint16();
    case "UINT_32": return new Uint32();
  }
  if (bits === 8) return signed ? new Int8() : new Uint8();
  if (bits === 16) return signed ? new Int16() : new Uint16();
  if (bits === 32 && !signed) return new Uint32();
  return new Int32();
}

/** The Arrow schema of these columns and the string columns a read adds (partitions, path); undefined if a column is nested. */
export function arrowSchemaOf(columns: readonly ParquetColumn[], added: readonly string[]): Schema | undefined {
  if (columns.some((c) => c.type === undefined)) return undefined;
  return new Schema([
    ...columns.map((c) => {
      if (!c.tensorShape) return new Field(c.name, c.type!, true);
      const empty = tensorColumnOf(c, []);
      return new Field(c.name, empty.vector.type, false, empty.metadata);
    }),
    ...added.map((name) => new Field(name, new Utf8(), true)),
  ]);
}

/** A tensor column of these rows (each an array of one tensor's values, row-major). */
export function tensorColumnOf(column: ParquetColumn, rows: ArrayLike<unknown>): TypedColumn {
  const shape = column.tensorShape!;
  const size = shape.reduce((a, b) => a * b, 1);
  const ArrayType = (column.type as unknown as { ArrayType: new (n: number) => TypedArray }).ArrayType;
  const data = new ArrayType(rows.length * size) as unknown as { set(values: ArrayLike<unknown>, at: number): void };
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as ArrayLike<unknown> | null | undefined;
    if (row === null || row === undefined) throw new TypeError(`tensor column '${column.name}' holds a null at row ${r}, which a tensor column cannot hold`);
    if (row.length !== size) throw new RangeError(`tensor column '${column.name}': row ${r} has ${row.length} values where a tensor of shape [${shape.join(", ")}] has ${size}`);
    data.set(row, r * size);
  }
  return tensorBatchColumn(column.name, { data: data as unknown as TypedArray, shape: [rows.length, ...shape] });
}
