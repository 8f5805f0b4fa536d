/**
 * The files a read takes: given files as they are, folders listed recursively (names starting
 * with "." or "_" skipped, as Ray does), filtered by extension, in path order. With hive
 * partitioning, folders named key=value between a given folder and a file become the file's
 * partition values.
 */
import { readdir, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

export interface FoundFile {
  readonly path: string;
  readonly partitionValues: Readonly<Record<string, string>>;
}

export interface ListOptions {
  readonly fileExtensions: readonly string[] | null;
  readonly ignoreMissingPaths: boolean;
  readonly hive: boolean;
}

export async function listFiles(paths: readonly string[], opts: ListOptions): Promise<FoundFile[]> {
  const found: FoundFile[] = [];
  for (const given of paths) {
    const path = given.startsWith("file:") ? fileURLToPath(given) : given;
    let info;
    try {
      info = await stat(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        if (opts.ignoreMissingPaths) continue;
        throw new Error(`no such file or folder: ${given}`);
      }
      throw err;
    }
    if (!info.isDirectory()) {
      if (hasExtension(path, opts.fileExtensions)) found.push({ path, partitionValues: {} });
      continue;
    }
    for (const file of await walk(path)) {
      if (!hasExtension(file, opts.fileExtensions)) continue;
      found.push({ path: file, partitionValues: opts.hive ? hiveValues(path, file) : {} });
    }
  }
  return found;
}

async function walk(folder: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(folder, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name.startsWith(".") || entry.name.startsWith("_")) continue;
    const full = join(folder, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

function hasExtension(path: string, extensions: readonly string[] | null): boolean {
  if (extensions === null) return true;
  const lower = path.toLowerCase();
  return extensions.some((ext) => lower.endsWith(`.${ext.toLowerCase().replace(/^\./, "")}`));
}

function hiveValues(base: string, file: string): Record<string, string> {
  const values: Record<string, string> = {};
  const folders = relative(base, file).split(sep).slice(0, -1);
  for (const folder of folders) {
    const eq = folder.indexOf("=");
    if (eq > 0) values[decodeURIComponent(folder.slice(0, eq))] = decodeURIComponent(folder.slice(eq + 1));
  }
  return values;
}
