/**
 * A block as the bytes of a Parquet file (hyparquet-writer, SNAPPY-compressed), with types that
 * read back as they were: Float64 → DOUBLE, Float32 → FLOAT, Int8/16/32 and UInt8/16/32 → INT32
 * annotated with their width and sign, Int64 → INT64, UInt64 → INT64 UINT_64, Bool → BOOLEAN,
 * Utf8 → BYTE_ARRAY UTF8, Binary → BYTE_ARRAY, Timestamp and Date → INT64 TIMESTAMP_MILLIS, a
 * column of nulls alone → INT32 of nulls. Every column is OPTIONAL (nulls kept). A list column,
 * and a tensor column, is a Parquet LIST of its element type (what pyarrow and hyparquet read as
 * lists); the file's key-value metadata records tensor columns' shapes, so readParquet gives
 * Tensors back. Struct columns and lists of lists are refused with an error naming the column.
 */
import { DataType, type Table, type Vector } from "apache-arrow";
import { parquetWriteBuffer, type ColumnSource } from "hyparquet-writer";
import type { SchemaElement } from "hyparquet";
import { tensorShapeOf } from "../tensor.js";

/** Rows per row group: large enough for efficient columns, small enough that a reader may split a file by them. */
const ROW_GROUP_ROWS = 128 * 1024;

/** The key of the file metadata that records tensor columns' shapes, so readParquet gives Tensors back. */
export const TENSOR_SHAPES_KEY = "tsray.tensor_shapes";

export function parquetBytes(table: Table, method = "writeParquet"): Uint8Array {
  const schema: SchemaElement[] = [{ name: "root", num_children: table.schema.fields.length }];
  const columnData: ColumnSource[] = [];
  const tensorShapes: Record<string, number[]> = {};
  for (const field of table.schema.fields) {
    const vector = table.getChild(field.name)!;
    const type = vector.type as DataType;
    if (DataType.isList(type) || DataType.isFixedSizeList(type)) {
      // A LIST of a primitive: three schema elements (the column, its repeated "list", its "element").
      const child = (type as unknown as { children: { type: DataType; nullable: boolean }[] }).children[0]!;
      if (DataType.isList(child.type) || DataType.isFixedSizeList(child.type) || DataType.isStruct(child.type)) {
        throw new TypeError(`${method}(): column '${field.name}' is of type ${String(type)}, which writeParquet does not write yet (struct columns, lists of lists)`);
      }
      const leaf = schemaElementOf(field.name, child.type, method);
      schema.push({ name: field.name, repetition_type: "OPTIONAL", converted_type: "LIST", num_children: 1 },
        { name: "list", repetition_type: "REPEATED", num_children: 1 },
        { ...leaf, name: "element", repetition_type: child.nullable ? "OPTIONAL" : "REQUIRED" });
      const rows: unknown[] = new Array(vector.length);
      for (let i = 0; i < vector.length; i++) {
        const row = vector.get(i) as Iterable<unknown> | null;
        rows[i] = row === null ? null : Array.from(row, (v) => leafValue(v, leaf));
      }
      columnData.push({ name: field.name, data: rows });
      const shape = tensorShapeOf(field);
      if (shape) tensorShapes[field.name] = shape;
      continue;
    }
    const element = schemaElementOf(field.name, type, method);
    schema.push(element);
    columnData.push({ name: field.name, data: valuesOf(vector, element) });
  }
  const kvMetadata = Object.keys(tensorShapes).length > 0 ? [{ key: TENSOR_SHAPES_KEY, value: JSON.stringify(tensorShapes) }] : undefined;
  return new Uint8Array(parquetWriteBuffer({ columnData, schema, rowGroupSize: ROW_GROUP_ROWS, createdBy: "tsray", ...(kvMetadata ? { kvMetadata } : {}) }));
}

function schemaElementOf(name: string, type: DataType, method: string): SchemaElement {
  const optional = { name, repetition_type: "OPTIONAL" as const };
  if (DataType.isDictionary(type)) return schemaElementOf(name, (type as unknown as { dictionary: DataType }).dictionary, method);
  if (DataType.isFloat(type)) return { ...optional, type: (type as unknown as { precision: number }).precision === 2 ? "DOUBLE" : "FLOAT" };
  if (DataType.isInt(type)) {
    const { bitWidth, isSigned } = type as unknown as { bitWidth: number; isSigned: boolean };
    if (bitWidth === 64) return isSigned ? { ...optional, type: "INT64" } : { ...optional, type: "INT64", converted_type: "UINT_64" };
    if (bitWidth === 32 && isSigned) return { ...optional, type: "INT32" };
    return { ...optional, type: "INT32", converted_type: `${isSigned ? "INT" : "UINT"}_${bitWidth}` as SchemaElement["converted_type"] };
  }
  if (DataType.isBool(type)) return { ...optional, type: "BOOLEAN" };
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) return { ...optional, type: "BYTE_ARRAY", converted_type: "UTF8" };
  if (DataType.isBinary(type) || DataType.isLargeBinary(type) || DataType.isFixedSizeBinary(type)) return { ...optional, type: "BYTE_ARRAY" };
  if (DataType.isTimestamp(type) || DataType.isDate(type)) return { ...optional, type: "INT64", converted_type: "TIMESTAMP_MILLIS" };
  if (DataType.isNull(type)) return { ...optional, type: "INT32" };
  throw new TypeError(`${method}(): column '${name}' is of type ${String(type)}, which writeParquet does not write yet (struct columns, lists of lists)`);
}

/** The column's values as hyparquet-writer takes them for this element: a typed array if there are no nulls, else an array with nulls. */
function valuesOf(vector: Vector, element: SchemaElement): ColumnSource["data"] {
  const type = vector.type as DataType;
  if (vector.nullCount === 0 && !DataType.isDictionary(type) && (DataType.isFloat(type) || (DataType.isInt(type) && !element.converted_type))) {
    return vector.toArray() as ColumnSource["data"];
  }
  const out: unknown[] = new Array(vector.length);
  for (let i = 0; i < vector.length; i++) out[i] = leafValue(vector.get(i), element);
  return out;
}

/** One value as hyparquet-writer takes it for this element. */
function leafValue(value: unknown, element: SchemaElement): unknown {
  if (value === null || value === undefined) return null;
  if (element.converted_type === "TIMESTAMP_MILLIS") return value instanceof Date ? value : new Date(Number(value));
  return value;
}
