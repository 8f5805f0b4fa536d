/**
 * A write task's last stage: writes its block to "<datasetId>_<blockIndex>.<ext>" in the folder,
 * first under a hidden temporary name (which readers skip) renamed once complete, so no file is
 * ever seen half-written. An empty block writes nothing.
 */
import { rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Table } from "apache-arrow";
import { tableToRows } from "../from-arrow.js";
import { csvText, jsonLinesText, type CsvWriteOptions } from "./format-file.js";

export interface WriteStage {
  readonly kind: "write";
  readonly name: string;
  readonly format: "csv" | "json";
  readonly folder: string;
  readonly datasetId: string;
  readonly csv?: CsvWriteOptions;
}

/** Writes the block; returns the file's row (path, numRows), or none for an empty block. */
export async function writeBlock(stage: WriteStage, table: Table, blockIndex: number): Promise<{ path: string; numRows: number }[]> {
  if (table.numRows === 0) return [];
  const rows = tableToRows(table);
  const text = stage.format === "csv" ? csvText(table.schema.fields.map((f) => f.name), rows, stage.csv!) : jsonLinesText(rows);
  const name = `${stage.datasetId}_${String(blockIndex).padStart(6, "0")}.${stage.format === "csv" ? "csv" : "jsonl"}`;
  const path = join(stage.folder, name);
  const temporary = join(stage.folder, `.${name}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`);
  await writeFile(temporary, text);
  await rename(temporary, path);
  return [{ path, numRows: table.numRows }];
}
