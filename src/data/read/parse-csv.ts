/**
 * CSV to an Arrow table: RFC 4180 fields (quotes, doubled quotes, newlines inside quotes), then
 * a type per column as the contract says: all integers Int64, all numbers Float64, all
 * true/false Bool, else Utf8. An empty field (or one of nullValues) is null, except that an
 * empty field in a Utf8 column is "".
 */
import { Bool, Float64, Int64, Table, Utf8, vectorFromArray, type Vector } from "apache-arrow";

export interface CsvOptions {
  readonly delimiter: string;
  readonly header: boolean;
  readonly columnNames: readonly string[] | null;
  readonly nullValues: readonly string[];
}

export function parseCsv(text: string, path: string, opts: CsvOptions): Table {
  const records = splitRecords(text, path, opts.delimiter);
  const headerRecord = opts.header ? records.shift() : undefined;
  const names = opts.columnNames ?? headerRecord?.fields ?? (records[0]?.fields.map((_, i) => `column${i}`) ?? []);
  for (const record of records) {
    if (record.fields.length !== names.length) {
      throw new Error(`${path}:${record.line}: ${record.fields.length} fields where the header has ${names.length}`);
    }
  }
  const columns: Record<string, Vector> = {};
  names.forEach((name, c) => {
    columns[name] = typedColumn(records.map((r) => r.fields[c]!), opts.nullValues);
  });
  return new Table(columns);
}

interface CsvRecord { fields: string[]; line: number }

function splitRecords(text: string, path: string, delimiter: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = "";
  let line = 1;
  let recordLine = 1;
  let quoted = false;
  let quoteLine = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') { field += '"'; i++; } else quoted = false;
      } else {
        if (ch === "\n") line++;
        field += ch;
      }
    } else if (ch === '"' && field === "") {
      quoted = true;
      quoteLine = line;
    } else if (ch === delimiter) {
      fields.push(field);
      field = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      fields.push(field);
      if (!(fields.length === 1 && fields[0] === "")) records.push({ fields, line: recordLine });
      fields = [];
      field = "";
      line++;
      recordLine = line;
    } else {
      field += ch;
    }
  }
  if (quoted) throw new Error(`${path}:${quoteLine}: a quoted field is not closed`);
  fields.push(field);
  if (!(fields.length === 1 && fields[0] === "")) records.push({ fields, line: recordLine });
  return records;
}

const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const BOOLEAN = /^(true|false)$/i;
const INT64_MAX = 2n ** 63n - 1n;

function typedColumn(raw: readonly string[], nullValues: readonly string[]): Vector {
  const isNull = (s: string) => s === "" || nullValues.includes(s);
  const present = raw.filter((s) => !isNull(s));
  if (present.length > 0 && present.every((s) => INTEGER.test(s) && BigInt(s) <= INT64_MAX && BigInt(s) >= -INT64_MAX - 1n)) {
    return vectorFromArray(raw.map((s) => (isNull(s) ? null : BigInt(s))), new Int64());
  }
  if (present.length > 0 && present.every((s) => NUMBER.test(s))) {
    return vectorFromArray(raw.map((s) => (isNull(s) ? null : Number(s))), new Float64());
  }
  if (present.length > 0 && present.every((s) => BOOLEAN.test(s))) {
    return vectorFromArray(raw.map((s) => (isNull(s) ? null : s.toLowerCase() === "true")), new Bool());
  }
  // Utf8: only the nullValues are null here; an empty field is an empty string.
  return vectorFromArray(raw.map((s) => (nullValues.includes(s) ? null : s)), new Utf8());
}
