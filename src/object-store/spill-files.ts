/**
 * Where a node's object store puts objects that do not fit in its memory: one file per object,
 * in a folder of the node's process under the session root (`spill-<pid>-<node id>`, mode 700),
 * made when the first object spills and removed with the store. Folders of processes that are
 * gone (killed with SIGKILL) are removed by the next store that spills on the machine.
 */
import { closeSync, mkdirSync, openSync, readdirSync, readSync, rmSync, writeSync } from "node:fs";
import path from "node:path";
import { isAlive } from "../common/process-alive.js";
import { valueBodies } from "../serialization/serialized-value.js";

export class SpillFiles {
  private dir?: string;
  private next = 0;

  constructor(
    private readonly root: string,
    private readonly nodeId: string,
  ) {}

  /** Writes the bodies to a new file; returns its path. */
  write(bodies: Uint8Array[]): string {
    const file = path.join(this.folder(), String(this.next++));
    const fd = openSync(file, "w", 0o600);
    try {
      for (const body of bodies) for (let at = 0; at < body.byteLength; ) at += writeSync(fd, body, at, body.byteLength - at);
    } catch (err) {
      rmSync(file, { force: true });
      throw err;
    } finally {
      closeSync(fd);
    }
    return file;
  }

  /** Reads a file `write` made back into `into` (the same sizes, in order). */
  read(file: string, into: Uint8Array[]): void {
    const fd = openSync(file, "r");
    try {
      let position = 0;
      for (const view of into) {
        for (let at = 0; at < view.byteLength; ) {
          const n = readSync(fd, view, at, view.byteLength - at, position);
          if (n === 0) throw new Error(`spilled object file ${file} is shorter than its object`);
          at += n;
          position += n;
        }
      }
    } finally {
      closeSync(fd);
    }
  }

  /** The bodies in a file `write` made, read into memory of their own (the file stays). */
  readCopy(file: string, sizes: number[]): Uint8Array[] {
    const bodies = sizes.map((size) => valueBody(size));
    this.read(file, bodies);
    return bodies;
  }

  remove(file: string): void {
    rmSync(file, { force: true });
  }

  /** Removes the folder and every file in it. */
  clear(): void {
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }

  private folder(): string {
    if (this.dir) return this.dir;
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    removeAbandoned(this.root);
    this.dir = path.join(this.root, `spill-${process.pid}-${this.nodeId}`);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    return this.dir;
  }
}

/** Spill folders whose process is gone. */
function removeAbandoned(root: string): void {
  for (const name of readdirSync(root)) {
    const pid = /^spill-(\d+)-/.exec(name)?.[1];
    if (pid && Number(pid) !== process.pid && !isAlive(Number(pid))) rmSync(path.join(root, name), { recursive: true, force: true });
  }
}

/** Memory for a value's body read from disk (marked as such, for a socket that sends it on). */
function valueBody(size: number): Uint8Array {
  const body = new Uint8Array(size);
  valueBodies.add(body);
  return body;
}
