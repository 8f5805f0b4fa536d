/**
 * A read task's work: reads its files whole, parses each by format into a table, adds the
 * partition columns (hive folders) and the "path" column if asked, and concatenates them.
 * Runs in a worker; errors name the file (and the line, where there is one).
 */
import { readFile } from "node:fs/promises";
import { Table, Utf8, vectorFromArray, type Vector } from "apache-arrow";
import { concatTables } from "../block.js";
import { rowsToTable } from "../to-arrow.js";
import { parseCsv, type CsvOptions } from "./parse-csv.js";

export type FileFormat = "csv" | "json" | "text" | "binary";

/** What a read task gets: plain data. */
export interface FilesInput {
  readonly kind: "files";
  readonly format: FileFormat;
  readonly files: readonly { readonly path: string; readonly partitionValues: Readonly<Record<string, string>> }[];
  readonly includePaths: boolean;
  readonly csv?: CsvOptions;
  readonly json?: { readonly lines: boolean | null };
  readonly text?: { readonly encoding: string; readonly dropEmptyLines: boolean };
}

export async function readFilesBlock(input: FilesInput): Promise<Table> {
  const tables: Table[] = [];
  for (const file of input.files) {
    let table = await parseFile(input, file.path);
    const extra: [string, string][] = Object.entries(file.partitionValues);
    if (input.includePaths) extra.push(["path", file.path]);
    for (const [name, value] of extra) table = withConstant(table, name, value);
    tables.push(table);
  }
  return concatTables(tables);
}

async function parseFile(input: FilesInput, path: string): Promise<Table> {
  const bytes = await readFile(path);
  switch (input.format) {
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
      return rowsToTable(parseJson(bytes.toString("utf8"), path, input.json!.lines ?? /\.jsonl$/i.test(path)));
  }
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

function withConstant(table: Table, name: string, value: string): Table {
  const columns: Record<string, Vector> = {};
  for (const field of table.schema.fields) columns[field.name] = table.getChild(field.name)!;
  columns[name] = vectorFromArray(new Array<string>(table.numRows).fill(value), new Utf8());
  return new Table(columns);
}
