// What every tsray Data test file sets up: an embedded cluster of two CPUs and a folder of its
// own, both gone after the file.
import { after, before } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ray from "tsray";

/** The folder's path, once the file's tests run. */
export function clusterAndFolder(prefix: string): { path(...parts: string[]): string } {
  let dir = "";
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    await ray.init({ numCpus: 2 });
  });
  after(async () => {
    await ray.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });
  return { path: (...parts) => join(dir, ...parts) };
}
