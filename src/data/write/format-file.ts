/**
 * A block as the text of a CSV or JSON Lines file. Values are the rows' JS values (tableToRows):
 * null is an empty CSV field; dates are ISO strings; typed arrays, tensors and other objects are
 * JSON (in CSV, a quoted JSON field).
 */
import type { Row } from "../types.js";

export interface CsvWriteOptions { readonly delimiter: string; readonly header: boolean }

export function csvText(columns: readonly string[], rows: readonly Row[], opts: CsvWriteOptions): string {
  const field = (value: unknown): string => {
    const text = value === null || value === undefined ? "" : typeof value === "string" ? value
      : typeof value === "number" || typeof value === "boolean" ? String(value)
      : value instanceof Date ? value.toISOString() : JSON.stringify(jsonable(value));
    return /[",\r\n]/.test(text) || text.includes(opts.delimiter) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  const lines = rows.map((row) => columns.map((c) => field(row[c])).join(opts.delimiter));
  if (opts.header) lines.unshift(columns.map(field).join(opts.delimiter));
  return lines.map((l) => `${l}\n`).join("");
}

export function jsonLinesText(rows: readonly Row[]): string {
  return rows.map((row) => `${JSON.stringify(jsonable(row))}\n`).join("");
}

/** Typed arrays as plain arrays, so JSON shows their numbers. */
function jsonable(value: unknown): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<unknown>, jsonable);
  if (Array.isArray(value)) return value.map(jsonable);
  if (value instanceof Date || value === null || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonable(v)]));
}
