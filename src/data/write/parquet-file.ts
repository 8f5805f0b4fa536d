/**
 * A block as the bytes of a Parquet file (hyparquet-writer, SNAPPY-compressed), with types that
 * read back as they were: Float64 → DOUBLE, Float32 → FLOAT, Int8/16/32 and UInt8/16/32 → INT32
 * annotated with their width and sign, Int64 → INT64, UInt64 → INT64 UINT_64, Bool → BOOLEAN,
 * Utf8 → BYTE_ARRAY UTF8, Binary → BYTE_ARRAY, Timestamp and Date → INT64 TIMESTAMP_MILLIS, a
 * column of nulls alone → INT32 of nulls. Every column is OPTIONAL (nulls kept). Tensor, list and
 * struct columns are refused with an error naming the column: hyparquet-writer's nested
 * encoding would not read back as the same Arrow type.
 */
import { DataType, type Table, type Vector } from "apache-arrow";
import { parquetWriteBuffer, type ColumnSource } from "hyparquet-writer";
import type { SchemaElement } from "hyparquet";

/** Rows per row group: large enough for efficient columns, small enough that a reader may split a file by them. */
const ROW_GROUP_ROWS = 128 * 1024;

export function parquetBytes(table: Table, method = "writeParquet"): Uint8Array {
  const schema: SchemaElement[] = [{ name: "root", num_children: table.schema.fields.length }];
  const columnData: ColumnSource[] = [];
  for (const field of table.schema.fields) {
    const vector = table.getChild(field.name)!;
    const element = schemaElementOf(field.name, vector.type as DataType, method);
    schema.push(element);
    columnData.push({ name: field.name, data: valuesOf(vector, element) });
  }
  return new Uint8Array(parquetWriteBuffer({ columnData, schema, rowGroupSize: ROW_GROUP_ROWS, createdBy: "tsray" }));
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
  throw new TypeError(`${method}(): column '${name}' is of type ${String(type)}, which writeParquet does not write yet (tensor, list and struct columns)`);
}

/** The column's values as hyparquet-writer takes them for this element: a typed array if there are no nulls, else an array with nulls. */
function valuesOf(vector: Vector, element: SchemaElement): ColumnSource["data"] {
  const type = vector.type as DataType;
  if (vector.nullCount === 0 && !DataType.isDictionary(type) && (DataType.isFloat(type) || (DataType.isInt(type) && !element.converted_type))) {
    return vector.toArray() as ColumnSource["data"];
  }
  const out: unknown[] = new Array(vector.length);
  for (let i = 0; i < vector.length; i++) {
    const value: unknown = vector.get(i);
    if (value === null || value === undefined) out[i] = null;
    else if (element.converted_type === "UINT_32") out[i] = (value as number) | 0; // INT32 holds the same 32 bits
    else if (element.converted_type === "UINT_64") out[i] = BigInt.asIntN(64, value as bigint);
    else if (element.converted_type === "TIMESTAMP_MILLIS") out[i] = value instanceof Date ? value : new Date(Number(value));
    else out[i] = value;
  }
  return out;
}
