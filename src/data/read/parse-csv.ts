/**
 * CSV to an Arrow table: RFC 4180 fields (quotes, doubled quotes, newlines inside quotes), then
 * a type per column as the contract says: all integers Int64, all numbers Float64, all
 * true/false Bool, else Utf8. An empty field (or one of nullValues) is null, except that an
 * empty field in a Utf8 column is "".
 */
import { setInt64 } from "../int64-words.js";
import { Bool, Float64, Int64, makeData, makeVector, Table, Utf8, vectorFromArray, type Vector } from "apache-arrow";

export interface CsvOptions {
  readonly delimiter: string;
  readonly header: boolean;
  readonly columnNames: readonly string[] | null;
  readonly nullValues: readonly string[];
}

export function parseCsv(text: string, path: string, opts: CsvOptions): Table {
  const { first, rest } = splitColumns(text, path, opts.delimiter);
  if (first === undefined) return new Table(Object.fromEntries((opts.columnNames ?? []).map((name) => [name, typedColumn([], [])])));
  // The first record is the header, or the first row.
  const columns = opts.header ? rest : rest.map((column, c) => [first[c]!, ...column]);
  const names = opts.columnNames ?? (opts.header ? first : first.map((_, i) => `column${i}`));
  if (names.length !== first.length) {
    throw new Error(`${path}:1: ${first.length} fields where columnNames has ${names.length}`);
  }
  const vectors: Record<string, Vector> = {};
  names.forEach((name, c) => {
    vectors[name] = typedColumn(columns[c]!, opts.nullValues);
  });
  return new Table(vectors);
}

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/**
 * The text's first record, and the fields of the others column by column: no object or array per
 * record, which would leave most of the work to the garbage collector. Every record must have as
 * many fields as the first, else the error names its line. An unquoted field (the common case) is
 * one slice of the text, found by scanning char codes; only quoted fields are built piece by piece.
 */
function splitColumns(text: string, path: string, delimiter: string): { first?: string[]; rest: string[][] } {
  const delim = delimiter.charCodeAt(0);
  const n = text.length;
  let first: string[] | undefined;
  let rest: string[][] = [];
  let record: string[] = [];
  let line = 1;
  let recordLine = 1;
  let i = 0;
  const endRecord = () => {
    if (record.length === 1 && record[0] === "") return; // a blank line
    if (first === undefined) {
      first = record;
      rest = record.map(() => []);
    } else if (record.length !== first.length) {
      throw new Error(`${path}:${recordLine}: ${record.length} fields where the header has ${first.length}`);
    } else {
      for (let c = 0; c < record.length; c++) rest[c]!.push(record[c]!);
    }
  };
  while (i < n) {
    // One field starts at i.
    let field = "";
    let from = i;
    if (text.charCodeAt(i) === QUOTE) {
      const quoteLine = line;
      let start = ++i;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) throw new Error(`${path}:${quoteLine}: a quoted field is not closed`);
        for (let k = text.indexOf("\n", i); k >= 0 && k < q; k = text.indexOf("\n", k + 1)) line++;
        if (text.charCodeAt(q + 1) === QUOTE) {
          field += text.slice(start, q + 1);
          i = start = q + 2;
        } else {
          field += text.slice(start, q);
          i = q + 1;
          break;
        }
      }
      from = i; // anything after the closing quote, up to the delimiter, belongs to the field too
    }
    let c = 0;
    while (i < n && (c = text.charCodeAt(i)) !== delim && c !== LF && c !== CR) i++;
    field += text.slice(from, i);
    record.push(field);
    if (i >= n) break;
    i++;
    if (c === delim) {
      if (i >= n) record.push(""); // a delimiter ends the text: one more, empty, field
      continue;
    }
    // The end of a record: \n, \r\n or \r.
    if (c === CR && text.charCodeAt(i) === LF) i++;
    endRecord();
    record = [];
    line++;
    recordLine = line;
  }
  if (record.length > 0) endRecord();
  return { first, rest };
}

const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const BOOLEAN = /^(true|false)$/i;
const INT64_MAX = 2n ** 63n - 1n;

/** The column's type from all its present values, then its vector built straight into typed arrays. */
function typedColumn(raw: readonly string[], nullValues: readonly string[]): Vector {
  const isNull = (s: string) => s === "" || (nullValues.length > 0 && nullValues.includes(s));
  let present = 0;
  let ints = true;
  let numbers = true;
  let booleans = true;
  for (const s of raw) {
    if (isNull(s)) continue;
    present++;
    if (ints && !(INTEGER.test(s) && (s.length < 16 || (BigInt(s) <= INT64_MAX && BigInt(s) >= -INT64_MAX - 1n)))) ints = false;
    if (numbers && !ints && !NUMBER.test(s)) numbers = false;
    if (booleans && !BOOLEAN.test(s)) booleans = false;
    if (!numbers && !booleans) break;
  }
  if (present > 0 && ints) return int64Column(raw, isNull);
  if (present > 0 && numbers) return float64Column(raw, isNull);
  if (present > 0 && booleans) return vectorFromArray(raw.map((s) => (isNull(s) ? null : s.toLowerCase() === "true")), new Bool());
  // Utf8: only the nullValues are null here; an empty field is an empty string.
  return utf8Column(raw, (s) => nullValues.length > 0 && nullValues.includes(s));
}

const encoder = new TextEncoder();

/** A Utf8 column encoded in one go (one string joined, one encode), not value by value. */
function utf8Column(raw: readonly string[], isNull: (s: string) => boolean): Vector {
  const validity = new Uint8Array((raw.length + 7) >> 3);
  let nulls = 0;
  const present = raw.map((s, i) => {
    if (isNull(s)) {
      nulls++;
      return "";
    }
    validity[i >> 3]! |= 1 << (i & 7);
    return s;
  });
  const joined = present.join("");
  const data = encoder.encode(joined);
  const ascii = data.length === joined.length;
  const valueOffsets = new Int32Array(raw.length + 1);
  for (let i = 0; i < present.length; i++) {
    valueOffsets[i + 1] = valueOffsets[i]! + (ascii ? present[i]!.length : Buffer.byteLength(present[i]!));
  }
  return makeVector(makeData({ type: new Utf8(), length: raw.length, nullCount: nulls, nullBitmap: nulls > 0 ? validity : null, valueOffsets, data }));
}

/** Int64 values written as two 32-bit words each (no BigInt per value), unless a value needs more than 53 bits. */
function int64Column(raw: readonly string[], isNull: (s: string) => boolean): Vector {
  const values = new BigInt64Array(raw.length);
  const words = new Int32Array(values.buffer);
  return numberColumn(new Int64(), values, raw, isNull, (i, s) => {
    if (s.length < 16) setInt64(words, i, Number(s));
    else values[i] = BigInt(s);
  });
}

function float64Column(raw: readonly string[], isNull: (s: string) => boolean): Vector {
  const values = new Float64Array(raw.length);
  return numberColumn(new Float64(), values, raw, isNull, (i, s) => {
    values[i] = Number(s);
  });
}

/** A column of `values`, each present field set by `set`, the null ones marked in its validity bitmap. */
function numberColumn(type: Int64 | Float64, values: BigInt64Array | Float64Array, raw: readonly string[], isNull: (s: string) => boolean,
  set: (i: number, field: string) => void): Vector {
  const validity = new Uint8Array((raw.length + 7) >> 3);
  let nulls = 0;
  for (let i = 0; i < raw.length; i++) {
    const s = raw[i]!;
    if (isNull(s)) {
      nulls++;
      continue;
    }
    validity[i >> 3]! |= 1 << (i & 7);
    set(i, s);
  }
  return makeVector(makeData({ type, length: raw.length, nullCount: nulls, nullBitmap: nulls > 0 ? validity : null, data: values } as never));
}
