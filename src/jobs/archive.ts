/**
 * A working directory as one compressed archive, to upload with a job: its files (not
 * node_modules, not .git), their modes, and nothing that could land outside the folder it is
 * unpacked into.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";
import v8 from "node:v8";
import { gunzipSync, gzipSync } from "node:zlib";

/** The largest working directory a job may upload, packed. */
export const MAX_ARCHIVE_BYTES = 100 * 2 ** 20;
const SKIPPED = new Set(["node_modules", ".git"]);

interface Entry {
  path: string;
  mode: number;
  data: Uint8Array;
}

/** Packs `dir`; throws RangeError naming the limit when it is too large. */
export function pack(dir: string): Buffer {
  const entries: Entry[] = [];
  let bytes = 0;
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(dir, rel))) {
      if (SKIPPED.has(name)) continue;
      const relPath = rel ? `${rel}/${name}` : name;
      const stat = lstatSync(path.join(dir, relPath));
      if (stat.isDirectory()) walk(relPath);
      else if (stat.isFile()) {
        bytes += stat.size;
        if (bytes > MAX_ARCHIVE_BYTES) throw new RangeError(`the working directory ${dir} is larger than ${MAX_ARCHIVE_BYTES / 2 ** 20} MB (node_modules and .git left out)`);
        entries.push({ path: relPath, mode: stat.mode & 0o777, data: readFileSync(path.join(dir, relPath)) });
      }
    }
  };
  walk("");
  const packed = gzipSync(v8.serialize(entries));
  if (packed.length > MAX_ARCHIVE_BYTES) throw new RangeError(`the working directory ${dir} packs to more than ${MAX_ARCHIVE_BYTES / 2 ** 20} MB`);
  return packed;
}

/** Unpacks into `dest`; throws on an archive that is not one, or that names a path outside `dest`. */
export function unpack(archive: Uint8Array, dest: string): void {
  const entries = v8.deserialize(gunzipSync(archive)) as Entry[];
  if (!Array.isArray(entries)) throw new TypeError("not a working-directory archive");
  const root = path.resolve(dest);
  for (const e of entries) {
    if (typeof e?.path !== "string" || !(e.data instanceof Uint8Array)) throw new TypeError("not a working-directory archive");
    const file = path.resolve(root, e.path);
    if (!file.startsWith(root + path.sep)) throw new RangeError(`the archive names a path outside its folder: ${e.path}`);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, e.data);
    chmodSync(file, (e.mode & 0o777) | 0o600);
  }
}

/** A job's uploaded working directory, unpacked in the session folder of a node that runs its code; returns where. */
export function unpackWorkingDir(archive: Uint8Array, nodeDir: string, jobId: string): string {
  const dir = path.join(nodeDir, "jobs", jobId, "working_dir");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  unpack(archive, dir);
  linkInstallation(dir);
  return dir;
}

/** The package root of this tsray: working directories without node_modules of their own import it. */
const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** A working directory without node_modules imports tsray (and tsx, to run TypeScript) from this node's installation. */
export function linkInstallation(cwd: string): void {
  const modules = path.join(cwd, "node_modules");
  if (existsSync(modules)) return;
  mkdirSync(modules);
  symlinkSync(PACKAGE_ROOT, path.join(modules, "tsray"), "dir");
  try {
    const tsx = path.dirname(createRequire(path.join(PACKAGE_ROOT, "package.json")).resolve("tsx/package.json"));
    symlinkSync(tsx, path.join(modules, "tsx"), "dir");
  } catch {
    // No tsx next to tsray: a job in TypeScript brings its own.
  }
}
