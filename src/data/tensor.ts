/**
 * Tensor columns: Arrow FixedSizeList columns whose field carries the canonical
 * "arrow.fixed_shape_tensor" extension (its metadata holds the shape of one row's tensor), so
 * other Arrow readers see what they hold. Rows give a Tensor per row; "numpy" batches one Tensor
 * of shape [rows, ...shape] over the whole column.
 */
import { Field, FixedSizeList, makeData, makeVector, RecordBatch, Schema, Table, type DataType, type Vector } from "apache-arrow";
import type { Tensor, TypedArray } from "./types.js";

const EXTENSION_NAME = "ARROW:extension:name";
const EXTENSION_METADATA = "ARROW:extension:metadata";
const FIXED_SHAPE_TENSOR = "arrow.fixed_shape_tensor";

/** A column vector with the field metadata it needs (tensor columns only). */
export interface TypedColumn { vector: Vector; metadata?: Map<string, string> }

export function isTensor(value: unknown): value is Tensor {
  if (typeof value !== "object" || value === null) return false;
  const v = value as { data?: unknown; shape?: unknown };
  return ArrayBuffer.isView(v.data) && !(v.data instanceof DataView) && Array.isArray(v.shape) && v.shape.every((d) => Number.isInteger(d) && d >= 0);
}

/** A column of one tensor per row, all of one shape and element type. */
export function tensorRowsColumn(column: string, tensors: readonly Tensor[]): TypedColumn {
  const first = tensors[0]!;
  const size = product(first.shape);
  const data = new (first.data.constructor as new (n: number) => TypedArray)(tensors.length * size);
  tensors.forEach((t, i) => {
    if (t.shape.length !== first.shape.length || t.shape.some((d, k) => d !== first.shape[k]) || t.data.constructor !== first.data.constructor) {
      throw new TypeError(`column '${column}' holds tensors of different shapes or element types (row ${i}); ragged tensors are not supported yet`);
    }
    if (t.data.length !== size) throw new RangeError(`column '${column}', row ${i}: a tensor of shape [${t.shape.join(", ")}] needs ${size} values, has ${t.data.length}`);
    (data as unknown as { set(a: ArrayLike<unknown>, at: number): void }).set(t.data as ArrayLike<unknown>, i * size);
  });
  return tensorBatchColumn(column, { data, shape: [tensors.length, ...first.shape] });
}

/** A column from one tensor of shape [rows, ...shape]: its data is used as is, without a copy. */
export function tensorBatchColumn(column: string, tensor: Tensor): TypedColumn {
  const [rows, ...shape] = tensor.shape;
  if (rows === undefined) throw new TypeError(`column '${column}': a tensor column needs a shape of [rows, ...]`);
  const size = product(shape);
  if (tensor.data.length !== rows * size) throw new RangeError(`column '${column}': a tensor of shape [${tensor.shape.join(", ")}] needs ${rows * size} values, has ${tensor.data.length}`);
  const values = makeVector(tensor.data instanceof Uint8ClampedArray ? new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.length) : tensor.data as Exclude<TypedArray, Uint8ClampedArray>);
  const type = new FixedSizeList(size, new Field("item", values.type as DataType, false));
  const vector = makeVector(makeData({ type, length: rows, nullCount: 0, child: values.data[0]! }));
  const metadata = new Map([[EXTENSION_NAME, FIXED_SHAPE_TENSOR], [EXTENSION_METADATA, JSON.stringify({ shape })]]);
  return { vector, metadata };
}

/** The shape of one row's tensor, if this field is a tensor column. */
export function tensorShapeOf(field: Field): number[] | undefined {
  if (field.metadata.get(EXTENSION_NAME) !== FIXED_SHAPE_TENSOR) return undefined;
  const shape = (JSON.parse(field.metadata.get(EXTENSION_METADATA) ?? "{}") as { shape?: number[] }).shape;
  return Array.isArray(shape) ? shape : undefined;
}

/** One Tensor per row (each a copy of its values). */
export function tensorPerRow(vector: Vector, shape: readonly number[]): Tensor[] {
  const out: Tensor[] = new Array(vector.length);
  for (let i = 0; i < vector.length; i++) {
    const row = vector.get(i) as Vector | null;
    out[i] = { data: (row ? row.toArray() : new Float64Array(product(shape))) as TypedArray, shape: [...shape] };
  }
  return out;
}

/** The whole column as one Tensor of shape [rows, ...shape]. */
export function tensorOfColumn(vector: Vector, shape: readonly number[]): Tensor {
  const size = product(shape);
  const rows = tensorPerRow(vector, shape);
  const Ctor = (rows[0]?.data.constructor ?? Float64Array) as new (n: number) => TypedArray;
  const data = new Ctor(vector.length * size);
  rows.forEach((r, i) => (data as unknown as { set(a: ArrayLike<unknown>, at: number): void }).set(r.data as ArrayLike<unknown>, i * size));
  return { data, shape: [vector.length, ...shape] };
}

/** A table of these columns, in order, with their field metadata (what `new Table({...})` cannot give). */
export function tableOfColumns(entries: readonly (readonly [string, TypedColumn])[]): Table {
  const table = new Table(Object.fromEntries(entries.map(([name, c]) => [name, c.vector])));
  if (!entries.some(([, c]) => c.metadata)) return table;
  const byName = new Map(entries.map(([name, c]) => [name, c.metadata]));
  const schema = new Schema(table.schema.fields.map((f) => {
    const metadata = byName.get(f.name);
    return metadata ? new Field(f.name, f.type, f.nullable, metadata) : f;
  }));
  return new Table(schema, table.batches.map((b) => new RecordBatch(schema, b.data)));
}

/** A table's columns as entries for tableOfColumns, keeping each field's metadata. */
export function columnsOf(table: Table): [string, TypedColumn][] {
  return table.schema.fields.map((f) => [f.name, { vector: table.getChild(f.name)!, ...(f.metadata.size > 0 ? { metadata: f.metadata } : {}) }]);
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
