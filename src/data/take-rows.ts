/**
 * Rows picked out of an Arrow table by index, keeping every column's type and field metadata.
 *
 * The all-to-all steps reorder rows (shuffle, sort, partition by key). Going through JS rows
 * would lose types (Int64 read as numbers comes back Float64, a tensor column's element type
 * is guessed again) and cost an object per row; here fixed-width columns are gathered as typed
 * arrays, strings and binaries by their offsets, tensors through their child values, and only
 * nested types (lists, structs, dictionaries) value by value through an Arrow builder.
 */
import { makeBuilder, makeData, makeVector, RecordBatch, Struct, Table, Type, type Data, type Schema } from "apache-arrow";
import type { TypedArray } from "./types.js";

/** The rows at `indices` (in that order; an index may repeat) as a table of the same schema. */
export function takeRows(table: Table, indices: ArrayLike<number>): Table {
  if (table.schema.fields.length === 0) return table.slice(0, 0);
  const columns = table.schema.fields.map((field) => {
    const chunks = table.getChild(field.name)!.data;
    return take(chunks, locate(chunks, indices));
  });
  return tableOf(table.schema, [columns], indices.length);
}

function tableOf(schema: Schema, batches: Data[][], length: number): Table {
  return new Table(schema, batches.map((columns) => batchOf(schema, columns, length)));
}

/** A record batch of these columns' data. */
export function batchOf(schema: Schema, columns: Data[], length: number): RecordBatch {
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length, nullCount: 0, children: columns }));
}

/** Where each index lies: its chunk, and its row within the chunk. */
interface Places { chunk: Int32Array; row: Int32Array }

function locate(chunks: readonly Data[], indices: ArrayLike<number>): Places {
  const starts = new Int32Array(chunks.length + 1);
  chunks.forEach((c, i) => (starts[i + 1] = starts[i]! + c.length));
  const chunk = new Int32Array(indices.length);
  const row = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i]!;
    if (!(index >= 0 && index < starts[chunks.length]!)) throw new RangeError(`row ${index} is out of range (${starts[chunks.length]} rows)`);
    let lo = 0;
    let hi = chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (starts[mid]! <= index) lo = mid;
      else hi = mid - 1;
    }
    chunk[i] = lo;
    row[i] = index - starts[lo]!;
  }
  return { chunk, row };
}

/** One column's values at these places, as one Data of the column's type. */
function take(chunks: readonly Data[], at: Places): Data {
  const n = at.row.length;
  const type = chunks[0]!.type;
  if (type.typeId === Type.Null) return makeData({ type, length: n, nullCount: n } as never);
  // apache-arrow slices a Data's value and offset buffers, and its FixedSizeList and Struct
  // children, but keeps `offset` for the bits of its validity bitmap and of boolean values.
  const pos = (i: number) => at.row[i]!;
  const bitPos = (i: number) => chunks[at.chunk[i]!]!.offset + at.row[i]!;
  const anyNulls = chunks.some((c) => c.nullCount > 0);
  const nullBitmap = anyNulls ? takeBits(n, (i) => {
    const c = chunks[at.chunk[i]!]!;
    return c.nullCount === 0 || bit(c.nullBitmap!, bitPos(i));
  }) : new Uint8Array(0);
  const nullCount = anyNulls ? n - countBits(nullBitmap, n) : 0;
  switch (type.typeId) {
    case Type.Int: case Type.Float: case Type.Date: case Type.Time: case Type.Timestamp: case Type.Decimal:
    case Type.Interval: case Type.Duration: case Type.FixedSizeBinary: {
      const stride = chunks[0]!.stride;
      const first = chunks[0]!.values as unknown as TypedValues;
      const values = new (first.constructor as new (n: number) => TypedValues)(n * stride);
      for (let i = 0; i < n; i++) {
        const source = chunks[at.chunk[i]!]!.values as unknown as TypedValues;
        const from = pos(i) * stride;
        if (stride === 1) values[i] = source[from]!;
        else values.set(source.subarray(from, from + stride) as never, i * stride);
      }
      return makeData({ type, length: n, nullCount, nullBitmap, data: values } as never);
    }
    case Type.Bool:
      return makeData({ type, length: n, nullCount, nullBitmap, data: takeBits(n, (i) => bit(chunks[at.chunk[i]!]!.values as Uint8Array, bitPos(i))) } as never);
    case Type.Utf8: case Type.Binary: {
      const valueOffsets = new Int32Array(n + 1);
      for (let i = 0; i < n; i++) {
        const offsets = chunks[at.chunk[i]!]!.valueOffsets as Int32Array;
        valueOffsets[i + 1] = valueOffsets[i]! + offsets[pos(i) + 1]! - offsets[pos(i)]!;
      }
      const values = new Uint8Array(valueOffsets[n]!);
      for (let i = 0; i < n; i++) {
        const c = chunks[at.chunk[i]!]!;
        const offsets = c.valueOffsets as Int32Array;
        values.set((c.values as Uint8Array).subarray(offsets[pos(i)]!, offsets[pos(i) + 1]!), valueOffsets[i]!);
      }
      return makeData({ type, length: n, nullCount, nullBitmap, valueOffsets, data: values } as never);
    }
    case Type.FixedSizeList: {
      // A tensor column: each row is `size` consecutive rows of its chunk's child.
      const size = (type as unknown as { listSize: number }).listSize;
      const child: Places = { chunk: new Int32Array(n * size), row: new Int32Array(n * size) };
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < size; k++) {
          child.chunk[i * size + k] = at.chunk[i]!;
          child.row[i * size + k] = pos(i) * size + k;
        }
      }
      return makeData({ type, length: n, nullCount, nullBitmap, child: take(chunks.map((c) => c.children[0]!), child) } as never);
    }
    case Type.List: {
      // Each row is the run of child rows between its two offsets.
      const valueOffsets = new Int32Array(n + 1);
      for (let i = 0; i < n; i++) {
        const offsets = chunks[at.chunk[i]!]!.valueOffsets as Int32Array;
        valueOffsets[i + 1] = valueOffsets[i]! + offsets[pos(i) + 1]! - offsets[pos(i)]!;
      }
      const child: Places = { chunk: new Int32Array(valueOffsets[n]!), row: new Int32Array(valueOffsets[n]!) };
      for (let i = 0; i < n; i++) {
        const offsets = chunks[at.chunk[i]!]!.valueOffsets as Int32Array;
        for (let k = offsets[pos(i)]!, j = valueOffsets[i]!; k < offsets[pos(i) + 1]!; k++, j++) {
          child.chunk[j] = at.chunk[i]!;
          child.row[j] = k;
        }
      }
      return makeData({ type, length: n, nullCount, nullBitmap, valueOffsets, child: take(chunks.map((c) => c.children[0]!), child) } as never);
    }
    default: {
      // Structs, maps, dictionaries, unions: value by value (a nested vector as an array, as builders take it).
      const vectors = chunks.map((c) => makeVector(c));
      const builder = makeBuilder({ type, nullValues: [null] });
      for (let i = 0; i < n; i++) {
        const value = vectors[at.chunk[i]!]!.get(at.row[i]!) as unknown;
        builder.append(value !== null && typeof value === "object" && "toArray" in value ? (value as { toArray(): unknown }).toArray() : value);
      }
      return builder.finish().flush();
    }
  }
}

type TypedValues = Exclude<TypedArray, Uint8ClampedArray>;

function bit(bits: Uint8Array, at: number): boolean {
  return ((bits[at >> 3]! >> (at & 7)) & 1) === 1;
}

/** n bits packed LSB first, as Arrow stores validity and booleans. */
function takeBits(n: number, isSet: (i: number) => boolean): Uint8Array {
  const out = new Uint8Array(Math.ceil(n / 8));
  for (let i = 0; i < n; i++) if (isSet(i)) out[i >> 3]! |= 1 << (i & 7);
  return out;
}

function countBits(bits: Uint8Array, n: number): number {
  let count = 0;
  for (let i = 0; i < n; i++) count += (bits[i >> 3]! >> (i & 7)) & 1;
  return count;
}
