/**
 * A write task's last stage: writes its block to "<datasetId>_<blockIndex>.<ext>" in the folder,
 * first under a hidden temporary name (which readers skip) renamed once complete, so no file is
 * ever seen half-written. An empty block writes nothing. A block of more than maxRowsPerFile rows
 * becomes several files, "<datasetId>_<blockIndex>_<part>.<ext>". Parquet partition columns put
 * each row in the hive folder "col=value/..." of its values, left out of the file.
 */
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Table } from "apache-arrow";
import { tableToRows } from "../from-arrow.js";
import { csvText, jsonLinesText, type CsvWriteOptions } from "./format-file.js";
import { numpyBytes } from "./numpy-file.js";
import { parquetBytes } from "./parquet-file.js";
import { partitionTable } from "./partition.js";

export type WriteFormat = "csv" | "json" | "parquet" | "numpy";

export interface WriteStage {
  readonly kind: "write";
  readonly name: string;
  readonly format: WriteFormat;
  readonly folder: string;
  readonly datasetId: string;
  readonly csv?: CsvWriteOptions;
  /** Parquet: hive partition columns. */
  readonly partitionCols?: readonly string[];
  /** .npy: the column written. */
  readonly column?: string;
  /** Blocks are bundled up to this many rows before the stage (executor.ts); null: a file per block. */
  readonly minRowsPerFile?: number | null;
  readonly maxRowsPerFile?: number | null;
}

const EXTENSION: Record<WriteFormat, string> = { csv: "csv", json: "jsonl", parquet: "parquet", numpy: "npy" };

/** Writes the block; returns a row (path, numRows) per file written, none for an empty block. */
export async function writeBlock(stage: WriteStage, table: Table, blockIndex: number): Promise<{ path: string; numRows: number }[]> {
  if (table.numRows === 0) return [];
  const written: { path: string; numRows: number }[] = [];
  const groups = stage.partitionCols && stage.partitionCols.length > 0
    ? partitionTable(table, stage.partitionCols)
    : [{ folder: "", table }];
  for (const group of groups) {
    const folder = join(stage.folder, group.folder);
    if (group.folder !== "") await mkdir(folder, { recursive: true });
    const pieces = splitRows(group.table, stage.maxRowsPerFile ?? null);
    for (const [part, piece] of pieces.entries()) {
      const suffix = pieces.length > 1 ? `_${String(part).padStart(6, "0")}` : "";
      const name = `${stage.datasetId}_${String(blockIndex).padStart(6, "0")}${suffix}.${EXTENSION[stage.format]}`;
      written.push({ path: await writeAtomically(folder, name, fileBytes(stage, piece)), numRows: piece.numRows });
    }
  }
  return written;
}

function fileBytes(stage: WriteStage, table: Table): string | Uint8Array {
  switch (stage.format) {
    case "csv": return csvText(table.schema.fields.map((f) => f.name), tableToRows(table), stage.csv!);
    case "json": return jsonLinesText(tableToRows(table));
    case "parquet": return parquetBytes(table);
    case "numpy": return numpyBytes(table, stage.column!);
  }
}

/** Slices of at most maxRows rows, as even as possible (a block of 10 with at most 4: 4, 3, 3). */
function splitRows(table: Table, maxRows: number | null): Table[] {
  if (maxRows === null || table.numRows <= maxRows) return [table];
  const parts = Math.ceil(table.numRows / maxRows);
  const out: Table[] = [];
  for (let i = 0; i < parts; i++) out.push(table.slice(Math.floor((i * table.numRows) / parts), Math.floor(((i + 1) * table.numRows) / parts)));
  return out;
}

async function writeAtomically(folder: string, name: string, content: string | Uint8Array): Promise<string> {
  const path = join(folder, name);
  const temporary = join(folder, `.${name}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`);
  await writeFile(temporary, content);
  await rename(temporary, path);
  return path;
}
