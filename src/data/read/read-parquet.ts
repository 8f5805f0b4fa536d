/**
 * A read task's Parquet file: decodes only the projected columns, one row group at a time (so
 * an error names its row group), into an Arrow table per row group with the types of
 * parquet-types.ts; nulls stay null. Numeric columns without nulls keep the typed array that
 * hyparquet decoded (no copy).
 */
import { DataType, makeData, makeVector, Table, vectorFromArray, type Utf8, type Vector } from "apache-arrow";
import { parquetRead, type DecodedArray } from "hyparquet";
import { concatTables } from "../block.js";
import { rowsToTable } from "../to-arrow.js";
import { openParquet, footerOf } from "./parquet-file.js";
import { parquetColumns, tensorColumnOf, type ParquetColumn } from "./parquet-types.js";
import { tableOfColumns, type TypedColumn } from "../tensor.js";

export interface ParquetReadOptions {
  /** Columns to decode, in this order; null: all. */
  readonly columns: readonly string[] | null;
}

/**
 * The file's rows of the projected columns, and how many rows they are (a table of no columns,
 * when no file column is projected, has no rows of its own); `rowGroups`: [first, end) of its row
 * groups to read (default all).
 */
export async function readParquetFile(path: string, opts: ParquetReadOptions, rowGroups?: readonly [number, number]): Promise<{ table: Table; numRows: number }> {
  const opened = await openParquet(path);
  try {
    const metadata = await footerOf(path, opened.file);
    const all = parquetColumns(metadata);
    const columns = projected(path, all, opts.columns);
    const tables: Table[] = [];
    let groupStart = 0;
    let numRows = 0;
    const [first, end] = rowGroups ?? [0, metadata.row_groups.length];
    for (const [g, group] of metadata.row_groups.entries()) {
      const groupRows = Number(group.num_rows);
      if (g >= first && g < end) {
        numRows += groupRows;
        if (columns.length > 0) tables.push(await readRowGroup(path, g, opened.file, metadata, columns, groupStart, groupStart + groupRows));
      }
      groupStart += groupRows;
    }
    return { table: tables.length > 0 ? concatTables(tables) : emptyTable(columns), numRows };
  } finally {
    await opened.close();
  }
}

/** The projected columns (all, by default); an unknown one is an error naming it and the file's columns. */
export function projected(path: string, all: readonly ParquetColumn[], wanted: readonly string[] | null): ParquetColumn[] {
  if (wanted === null) return [...all];
  return wanted.map((name) => {
    const column = all.find((c) => c.name === name);
    if (!column) throw new Error(`readParquet(): ${path} has no column '${name}'; its columns are ${all.map((c) => c.name).join(", ") || "(none)"}`);
    return column;
  });
}

async function readRowGroup(path: string, group: number, file: Parameters<typeof parquetRead>[0]["file"],
  metadata: Parameters<typeof parquetRead>[0]["metadata"], columns: readonly ParquetColumn[], rowStart: number, rowEnd: number): Promise<Table> {
  const chunks = new Map<string, { rowStart: number; data: DecodedArray }[]>();
  try {
    await parquetRead({
      file, metadata, rowStart, rowEnd, columns: columns.map((c) => c.name), utf8: false,
      // Strings (and JSON, which stays a string, as pyarrow reads it) stay UTF-8 bytes: they go into an Arrow Utf8
      // column as they are, without decoding and encoding each value.
      parsers: { stringFromBytes: (bytes: Uint8Array) => bytes, jsonFromBytes: (bytes: Uint8Array) => bytes },
      onChunk: (chunk) => {
        const list = chunks.get(chunk.columnName) ?? [];
        list.push({ rowStart: chunk.rowStart, data: chunk.columnData });
        chunks.set(chunk.columnName, list);
      },
    });
  } catch (err) {
    throw new Error(`${path}, row group ${group}: malformed Parquet data: ${(err as Error).message}`);
  }
  const n = rowEnd - rowStart;
  const typed: [string, TypedColumn][] = [];
  for (const column of columns) {
    const values = gather(chunks.get(column.name) ?? [], rowStart, rowEnd);
    if (values.length !== n) throw new Error(`${path}, row group ${group}: column '${column.name}' has ${values.length} values where the row group has ${n} rows`);
    try {
      typed.push([column.name, column.tensorShape ? tensorColumnOf(column, values) : { vector: vectorOf(column, values) }]);
    } catch (err) {
      throw new Error(`${path}, row group ${group}: ${(err as Error).message}`);
    }
  }
  return tableOfColumns(typed);
}

/** The values of rows [rowStart, rowEnd) from chunks that may hold rows outside it, in order. */
function gather(chunks: { rowStart: number; data: DecodedArray }[], rowStart: number, rowEnd: number): DecodedArray {
  chunks.sort((a, b) => a.rowStart - b.rowStart);
  const parts: DecodedArray[] = [];
  for (const { rowStart: start, data } of chunks) {
    const from = Math.max(0, rowStart - start);
    const to = Math.min(data.length, rowEnd - start);
    if (to > from) parts.push(from === 0 && to === data.length ? data : data.slice(from, to));
  }
  if (parts.length === 1) return parts[0]!;
  return parts.flatMap((p) => Array.from(p as ArrayLike<unknown>));
}

function vectorOf(column: ParquetColumn, values: DecodedArray): Vector {
  const type = column.type;
  if (type === undefined) {
    // Nested: let apache-arrow infer the type from the assembled values (as rows would).
    return rowsToTable(Array.from(values as ArrayLike<unknown>, (v) => ({ [column.name]: v ?? null }))).getChild(column.name)!;
  }
  if (ArrayBuffer.isView(values) && (DataType.isInt(type) || DataType.isFloat(type))) {
    const typed = values as Exclude<DecodedArray, unknown[]>;
    const vector = makeVector(typed);
    if ((vector.type as DataType).typeId === type.typeId && sameWidth(vector.type as DataType, type)) return vector;
  }
  if (DataType.isUtf8(type) || DataType.isBinary(type)) return bytesVector(type, values as ArrayLike<Uint8Array | null | undefined>);
  const list = Array.from(values as ArrayLike<unknown>, (v) => (v === undefined ? null : v));
  if (DataType.isInt(type) && (type as unknown as { bitWidth: number }).bitWidth === 64) {
    return vectorFromArray(list.map((v) => (v === null || typeof v === "bigint" ? v : BigInt(v as number))), type);
  }
  return vectorFromArray(list, type);
}

/** A Utf8 or Binary column of these byte strings (null or undefined: null), built as Arrow's offsets and bytes directly. */
function bytesVector(type: DataType, values: ArrayLike<Uint8Array | null | undefined>): Vector {
  const n = values.length;
  const valueOffsets = new Int32Array(n + 1);
  const nullBitmap = new Uint8Array((n + 7) >> 3);
  let total = 0;
  let nullCount = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || v === undefined) nullCount++;
    else { total += v.length; nullBitmap[i >> 3]! |= 1 << (i & 7); }
    valueOffsets[i + 1] = total;
  }
  const data = new Uint8Array(total);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v) data.set(v, valueOffsets[i]!);
  }
  return makeVector(makeData({ type: type as Utf8, length: n, nullCount, nullBitmap: nullCount > 0 ? nullBitmap : new Uint8Array(0), valueOffsets, data }));
}

function sameWidth(a: DataType, b: DataType): boolean {
  const wa = a as unknown as { bitWidth?: number; precision?: number; isSigned?: boolean };
  const wb = b as unknown as { bitWidth?: number; precision?: number; isSigned?: boolean };
  return wa.bitWidth === wb.bitWidth && wa.precision === wb.precision && wa.isSigned === wb.isSigned;
}

function emptyTable(columns: readonly ParquetColumn[]): Table {
  return tableOfColumns(columns.filter((c) => c.type).map((c) => [c.name, c.tensorShape ? tensorColumnOf(c, []) : { vector: vectorFromArray([], c.type!) }]));
}
