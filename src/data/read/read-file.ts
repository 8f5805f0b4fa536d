/**
 * A read task's work: reads its files whole, parses each by format into a table, adds the
 * partition columns (hive folders) and the "path" column if asked, and concatenates them.
 * Runs in a worker; errors name the file (and the line, where there is one).
 */
import { readFile } from "node:fs/promises";
import { Int64, makeData, makeVector, Table, Type, Utf8, vectorFromArray } from "apache-arrow";
import { int64Array } from "../int64-words.js";
import { columnsOf, tableOfColumns, type TypedColumn } from "../tensor.js";
import { concatTables } from "../block.js";
import { rowsToTable } from "../to-arrow.js";
import { parseCsv, type CsvOptions } from "./parse-csv.js";
import { npyTable, parseNpy } from "./read-numpy.js";
import { readImage, type ImageOptions } from "./read-image.js";
import { readParquetFile, type ParquetReadOptions } from "./read-parquet.js";

export type FileFormat = "csv" | "json" | "text" | "binary" | "parquet" | "numpy" | "images";

/** What a read task gets: plain data. */
export interface FilesInput {
  readonly kind: "files";
  readonly format: FileFormat;
  /** rowGroups (Parquet only): [first, end) of the file's row groups to read, default all. */
  readonly files: readonly { readonly path: string; readonly partitionValues: Readonly<Record<string, string>>; readonly rowGroups?: readonly [number, number] }[];
  readonly includePaths: boolean;
  readonly csv?: CsvOptions;
  readonly json?: { readonly lines: boolean | null };
  readonly text?: { readonly encoding: string; readonly dropEmptyLines: boolean };
  readonly parquet?: ParquetReadOptions;
  readonly images?: ImageOptions;
}

export async function readFilesBlock(input: FilesInput): Promise<Table> {
  const tables: Table[] = [];
  for (const file of input.files) {
    let table: Table;
    let numRows: number;
    let extra: [string, string][] = Object.entries(file.partitionValues);
    if (input.format === "parquet") {
      // Only the byte ranges of the projected columns are read; a partition column is projected by being named
      // (projecting partition columns alone reads no column, only the row count).
      const wanted = input.parquet!.columns;
      if (wanted !== null) extra = extra.filter(([key]) => wanted.includes(key));
      const fileColumns = wanted && wanted.filter((c) => !(c in file.partitionValues));
      ({ table, numRows } = await readParquetFile(file.path, { columns: fileColumns }, file.rowGroups));
    } else {
      table = await parseFile(input, file.path);
      numRows = table.numRows;
    }
    if (input.includePaths) extra.push(["path", file.path]);
    for (const [name, value] of extra) table = withConstant(table, numRows, name, value);
    tables.push(table);
  }
  return concatTables(tables);
}

async function parseFile(input: FilesInput, path: string): Promise<Table> {
  const bytes = await readFile(path).catch((err: NodeJS.ErrnoException) => {
    throw err.code === "ENOENT" ? new Error(`no such file: ${path}`) : err;
  });
  switch (input.format) {
    case "parquet":
      throw new Error("internal: Parquet files are read by byte ranges, not whole");
    case "numpy":
      return npyTable(parseNpy(bytes, path));
    case "images":
      return readImage(bytes, path, input.images!);
    case "binary":
      return rowsToTable([{ bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) }]);
    case "text": {
      const text = new TextDecoder(input.text!.encoding).decode(bytes);
      let lines = text.split(/\r?\n/);
      if (lines.at(-1) === "") lines.pop();
      if (input.text!.dropEmptyLines) lines = lines.filter((l) => l !== "");
      return new Table({ text: vectorFromArray(lines, new Utf8()) });
    }
    case "csv":
      return parseCsv(bytes.toString("utf8"), path, input.csv!);
    case "json":
      return integersAsInt64(rowsToTable(parseJson(bytes.toString("utf8"), path, input.json!.lines ?? /\.jsonl$/i.test(path))));
  }
}

/**
 * A JSON column of numbers that are all integers as Int64, as Arrow's JSON reader types it (and as
 * readCsv does); JSON.parse cannot tell 1.0 from 1, so such a column is Int64 too.
 */
function integersAsInt64(table: Table): Table {
  const columns: [string, TypedColumn][] = columnsOf(table).map(([name, column]) => {
    if (column.vector.type.typeId !== Type.Float || column.vector.nullCount === column.vector.length) return [name, column];
    const values = column.vector.toArray() as Float64Array;
    for (let i = 0; i < values.length; i++) {
      if (column.vector.isValid(i) && !Number.isSafeInteger(values[i])) return [name, column];
    }
    // rowsToTable made the column one chunk: its validity bitmap stays as it is, the values become Int64 words.
    const { nullCount, nullBitmap } = column.vector.data[0]!;
    const ints = int64Array(values.length, (i) => (column.vector.isValid(i) ? values[i]! : 0));
    return [name, { vector: makeVector(makeData({ type: new Int64(), length: values.length, nullCount, nullBitmap, data: ints })) }];
  });
  return tableOfColumns(columns);
}

function parseJson(text: string, path: string, lines: boolean): object[] {
  if (lines) {
    const rows: object[] = [];
    text.split(/\r?\n/).forEach((line, i) => {
      if (line.trim() === "") return;
      rows.push(asRow(parseOrExplain(line, `${path}:${i + 1}`), `${path}:${i + 1}`));
    });
    return rows;
  }
  const value = parseOrExplain(text, path);
  return Array.isArray(value) ? value.map((v, i) => asRow(v, `${path}, item ${i}`)) : [asRow(value, path)];
}

function parseOrExplain(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new SyntaxError(`${where}: malformed JSON: ${(err as Error).message}`);
  }
}

function asRow(value: unknown, where: string): object {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`${where}: a JSON row must be an object, got ${Array.isArray(value) ? "an array" : String(value)}`);
  }
  return value;
}

/** The table with a string column of one value added (field metadata, such as a tensor column's, kept). */
function withConstant(table: Table, numRows: number, name: string, value: string): Table {
  const columns = columnsOf(table).filter(([n]) => n !== name);
  columns.push([name, { vector: vectorFromArray(new Array<string>(numRows).fill(value), new Utf8()) }]);
  return tableOfColumns(columns);
}
