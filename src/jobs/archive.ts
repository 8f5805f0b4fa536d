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
import { createHash } from "node:crypto";
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
  // A folder inside a package (a task's own, say) keeps the module type it had there: .js and .ts
  // files are ES modules in the copy as they were beside the driver.
  if (!entries.some((e) => e.path === "package.json")) {
    const type = enclosingModuleType(dir);
    if (type) entries.push({ path: "package.json", mode: 0o644, data: Buffer.from(JSON.stringify({ type })) });
  }
  const packed = gzipSync(v8.serialize(entries));
  if (packed.length > MAX_ARCHIVE_BYTES) throw new RangeError(`the working directory ${dir} packs to more than ${MAX_ARCHIVE_BYTES / 2 ** 20} MB`);
  return packed;
}

/** The "type" of the nearest package.json above `dir`, if any. */
function enclosingModuleType(dir: string): string | undefined {
  for (let at = path.dirname(path.resolve(dir)); ; at = path.dirname(at)) {
    const file = path.join(at, "package.json");
    if (existsSync(file)) {
      try {
        const type = (JSON.parse(readFileSync(file, "utf8")) as { type?: unknown }).type;
        return typeof type === "string" ? type : undefined;
      } catch {
        return undefined;
      }
    }
    if (path.dirname(at) === at) return undefined;
  }
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

/**
 * A job's uploaded working directory (or, with `from`, one of its tasks' or actors'), unpacked in
 * the session folder of a node that runs its code; returns where.
 */
export function unpackWorkingDir(archive: Uint8Array, nodeDir: string, jobId: string, from?: string): string {
  const name = from === undefined ? "working_dir" : `dir-${createHash("sha256").update(from).digest("hex").slice(0, 16)}`;
  const dir = path.join(nodeDir, "jobs", jobId, name);
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
