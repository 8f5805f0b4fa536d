/**
 * One column of a block as the bytes of a .npy file (format version 1.0): a numeric column is a
 * 1-D array of its element type, a tensor column an array of shape [rows, ...shape]; Bool is
 * |b1. The header is padded with spaces to a multiple of 64 bytes, as numpy writes it, so the
 * values are aligned for a reader's typed-array view. Nulls, and columns of other types, are
 * errors naming the column.
 */
import { DataType, type Table } from "apache-arrow";
import { NPY_MAGIC } from "../read/read-numpy.js";
import { tensorOfColumn, tensorShapeOf } from "../tensor.js";
import type { TypedArray } from "../types.js";

const DESCR_OF: ReadonlyMap<Function, string> = new Map<Function, string>([
  [Float64Array, "<f8"], [Float32Array, "<f4"], [BigInt64Array, "<i8"], [Int32Array, "<i4"], [Int16Array, "<i2"], [Int8Array, "|i1"],
  [BigUint64Array, "<u8"], [Uint32Array, "<u4"], [Uint16Array, "<u2"], [Uint8Array, "|u1"], [Uint8ClampedArray, "|u1"],
]);

export function numpyBytes(table: Table, column: string): Uint8Array {
  const field = table.schema.fields.find((f) => f.name === column);
  if (!field) throw new Error(`writeNumpy(): no column '${column}'; the columns are ${table.schema.fields.map((f) => f.name).join(", ") || "(none)"}`);
  const vector = table.getChild(column)!;
  if (vector.nullCount > 0) throw new TypeError(`writeNumpy(): column '${column}' holds nulls, which a .npy array cannot`);
  const type = vector.type as DataType;
  const tensorShape = tensorShapeOf(field);
  let data: TypedArray;
  let shape: number[];
  let descr: string | undefined;
  if (tensorShape) {
    const tensor = tensorOfColumn(vector, tensorShape);
    data = tensor.data;
    shape = [...tensor.shape];
  } else if (DataType.isBool(type)) {
    data = Uint8Array.from({ length: vector.length }, (_, i) => (vector.get(i) ? 1 : 0));
    shape = [vector.length];
    descr = "|b1";
  } else if (DataType.isInt(type) || DataType.isFloat(type)) {
    data = vector.toArray() as TypedArray;
    shape = [vector.length];
  } else {
    throw new TypeError(`writeNumpy(): column '${column}' is of type ${String(type)}; writeNumpy writes numeric and tensor columns`);
  }
  descr ??= DESCR_OF.get(data.constructor);
  if (descr === undefined) throw new TypeError(`writeNumpy(): column '${column}' holds ${data.constructor.name} values, which have no .npy dtype here`);
  return npyBytes(descr, shape, data);
}

export function npyBytes(descr: string, shape: readonly number[], data: TypedArray): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = NPY_MAGIC.length + 4 + header.length + 1;
  header += " ".repeat((64 - (unpadded % 64)) % 64) + "\n";
  const out = new Uint8Array(NPY_MAGIC.length + 4 + header.length + data.byteLength);
  for (let i = 0; i < NPY_MAGIC.length; i++) out[i] = NPY_MAGIC.charCodeAt(i);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}
