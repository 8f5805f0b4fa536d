/**
 * What a plain readParquet dataset knows from its files' footers alone, in the consuming process:
 * its row count (the footers' num_rows, capped by limits) and its schema (the first file's
 * projected columns, then the columns a read adds). No column data is read. Any step that may
 * change rows or columns (a map step) leaves the answer to running the plan. Also: splitting
 * files by row groups when a read asks for more blocks than files.
 */
import type { Schema } from "apache-arrow";
import type { FilesSource, Plan } from "../plan.js";
import { listFiles, type FoundFile } from "./list-files.js";
import type { FilesInput } from "./read-file.js";
import { readFooter } from "./parquet-file.js";
import { parquetColumns, arrowSchemaOf } from "./parquet-types.js";
import { projected } from "./read-parquet.js";

/** Footers read at once. */
const PARALLEL_FOOTERS = 16;

export async function footerRowCount(plan: Plan): Promise<number | undefined> {
  const source = plan.source;
  if (source.kind !== "files" || source.format !== "parquet" || plan.steps.some((s) => s.kind !== "limit")) return undefined;
  const files = await listFiles(source.paths, source.list);
  if (files.length === 0) return undefined; // running the plan says why (no files), as any read does
  let rows = 0;
  for (let i = 0; i < files.length; i += PARALLEL_FOOTERS) {
    const footers = await Promise.all(files.slice(i, i + PARALLEL_FOOTERS).map((f) => readFooter(f.path)));
    for (const footer of footers) rows += Number(footer.num_rows);
  }
  return Math.min(rows, ...plan.steps.map((s) => (s.kind === "limit" ? s.n : Infinity)));
}

export async function footerSchema(plan: Plan): Promise<Schema | undefined> {
  const source = plan.source;
  if (source.kind !== "files" || source.format !== "parquet" || plan.steps.some((s) => s.kind !== "limit")) return undefined;
  const [first] = await listFiles(source.paths, source.list);
  if (first === undefined) return undefined;
  const wanted = source.input.parquet?.columns ?? null;
  const partitions = Object.keys(first.partitionValues).filter((k) => wanted === null || wanted.includes(k));
  const columns = projected(first.path, parquetColumns(await readFooter(first.path)), wanted?.filter((c) => !partitions.includes(c)) ?? null);
  return arrowSchemaOf(columns, [...partitions, ...(source.input.includePaths ? ["path"] : [])]);
}

/**
 * Read inputs for overrideNumBlocks above the number of files: the files' row groups (from their
 * footers) in order, split evenly into `blocks` inputs, each a run of whole row groups.
 */
export async function rowGroupInputs(source: FilesSource, files: readonly FoundFile[], blocks: number): Promise<FilesInput[]> {
  const units: { file: FoundFile; group: number }[] = [];
  for (let i = 0; i < files.length; i += PARALLEL_FOOTERS) {
    const batch = files.slice(i, i + PARALLEL_FOOTERS);
    const footers = await Promise.all(batch.map((f) => readFooter(f.path)));
    footers.forEach((footer, k) => {
      for (let g = 0; g < footer.row_groups.length; g++) units.push({ file: batch[k]!, group: g });
    });
  }
  const parts = Math.max(1, Math.min(blocks, units.length));
  const inputs: FilesInput[] = [];
  for (let p = 0; p < parts; p++) {
    const slice = units.slice(Math.floor((p * units.length) / parts), Math.floor(((p + 1) * units.length) / parts));
    const entries: { path: string; partitionValues: Readonly<Record<string, string>>; rowGroups: [number, number] }[] = [];
    for (const { file, group } of slice) {
      const last = entries.at(-1);
      if (last && last.path === file.path && last.rowGroups[1] === group) last.rowGroups[1] = group + 1;
      else entries.push({ path: file.path, partitionValues: file.partitionValues, rowGroups: [group, group + 1] });
    }
    inputs.push({ ...source.input, files: entries });
  }
  // Files without row groups (no rows) still make a block, so their columns are known.
  return units.length === 0 ? [{ ...source.input, files: [...files] }] : inputs;
}
