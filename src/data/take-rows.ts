/**
 * Rows of a table picked by index, into a new table of the same schema (types, metadata and
 * tensor columns kept): what the local shuffle needs, since apache-arrow has no "take" kernel.
 * Numeric columns without nulls are gathered as typed arrays; others value by value with their
 * own Arrow type.
 */
import { DataType, FixedSizeList, makeData, type Data, makeVector, RecordBatch, Struct, Table, vectorFromArray, type Vector } from "apache-arrow";

export function takeRows(table: Table, indices: ArrayLike<number>): Table {
  const n = indices.length;
  const children = table.schema.fields.map((field) => {
    const column = table.getChild(field.name)!;
    const picked = gather(column, indices);
    return single(picked);
  });
  const struct = makeData({ type: new Struct(table.schema.fields), length: n, nullCount: 0, children });
  return new Table(new RecordBatch(table.schema, struct));
}

/** A vector's data as one chunk. */
function single(vector: Vector): Data {
  if (vector.data.length === 1) return vector.data[0]!;
  const whole = makeVector(vector.data);
  return vectorFromArray(Array.from({ length: whole.length }, (_, i) => whole.get(i)), vector.type as DataType).data[0]!;
}

function gather(column: Vector, indices: ArrayLike<number>): Vector {
  const type = column.type as DataType;
  if (column.nullCount === 0 && (DataType.isFloat(type) || DataType.isInt(type))) {
    const source = column.toArray() as Float64Array;
    const out = new (source.constructor as new (n: number) => Float64Array)(indices.length);
    for (let i = 0; i < indices.length; i++) out[i] = source[indices[i]!]!;
    return makeVector({ type, data: out } as never);
  }
  if (column.nullCount === 0 && DataType.isFixedSizeList(type)) {
    // A tensor column (or any fixed-size list): the rows' runs of child values, gathered in turn.
    const size = (type as FixedSizeList).listSize;
    const childIndices = new Uint32Array(indices.length * size);
    for (let i = 0; i < indices.length; i++) for (let j = 0; j < size; j++) childIndices[i * size + j] = indices[i]! * size + j;
    const child = gather(column.getChildAt(0)!, childIndices);
    return makeVector(makeData({ type: type as FixedSizeList, length: indices.length, nullCount: 0, child: single(child) }));
  }
  const values = new Array<unknown>(indices.length);
  for (let i = 0; i < indices.length; i++) values[i] = column.get(indices[i]!);
  return vectorFromArray(values, type);
}
