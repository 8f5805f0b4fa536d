// Objects that outgrow the object store spill to local disk and come back when read: puts and
// task returns held by the driver, four times the store's size, read back by get and as task
// arguments. The spill files go when their objects do, and the folder with the store.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as ray from "tsray";
import { isAlive } from "../../src/common/process-alive.js";
import { storeUse } from "../helpers/store.js";

const MB = 2 ** 20;
const LENGTH = (16 * MB) / 8;
// The spill folder lives under the session root: a temporary one of this file's.
const root = mkdtempSync(path.join(os.tmpdir(), "tsray-spill-test-"));
const spillFiles = () => readdirSync(root).filter((d) => d.startsWith("spill-")).flatMap((d) => readdirSync(path.join(root, d)));

before(async () => {
  process.env.TSRAY_TMPDIR = root;
  await ray.init({ numCpus: 2, objectStoreMemory: 64 * MB });
});
after(async () => {
  await ray.shutdown();
  delete process.env.TSRAY_TMPDIR;
  rmSync(root, { recursive: true, force: true });
});

/** The first and last element of an array in the store, read by get (the view is gone after). */
async function ends(ref: ray.ObjectRef<Float64Array>): Promise<[number, number]> {
  const a = await ray.get(ref);
  return [a[0], a[a.length - 1]];
}

const sum = ray.remote(function sum(a: Float64Array) {
  return a[0] + a[a.length - 1];
});

test("puts four times the store's size spill to disk, and come back as task arguments and by get", async () => {
  // A folder left by a process that was killed (no such pid runs) goes when this store first spills.
  const abandoned = path.join(root, `spill-${deadPid()}-0123456789ab`);
  mkdirSync(abandoned);
  writeFileSync(path.join(abandoned, "0"), "left behind");
  const refs = Array.from({ length: 16 }, (_, i) => ray.put(new Float64Array(LENGTH).fill(i)));
  assert.ok(spillFiles().length >= 12, `${spillFiles().length} objects spilled`);
  assert.equal(existsSync(abandoned), false, "the killed process's spill folder is gone");
  assert.deepEqual(await ray.get(refs.map((r) => sum.remote(r))), refs.map((_, i) => 2 * i));
  for (let i = 0; i < refs.length; i++) assert.deepEqual(await ends(refs[i]), [i, i]);
  refs.length = 0;
  // Once the refs are collected, their objects and spill files are gone.
  let { objects } = await storeUse();
  for (let round = 1; round < 8 && objects > 0; round++) ({ objects } = await storeUse());
  assert.equal(objects, 0);
  assert.deepEqual(spillFiles(), []);
});

test("task returns held by the driver spill as they outgrow the store, and are read back in any order", async () => {
  const make = ray.remote((i: number) => new Float64Array(LENGTH).fill(i));
  const refs = Array.from({ length: 12 }, (_, i) => make.remote(100 + i));
  const [ready] = await ray.wait(refs, { numReturns: refs.length });
  assert.equal(ready.length, refs.length);
  for (const i of [11, 0, 5, 3, 10, 1, 2, 4, 6, 7, 8, 9]) assert.deepEqual(await ends(refs[i]), [100 + i, 100 + i]);
});

test("an object larger than the whole store still fails with ObjectStoreFullError", () => {
  assert.throws(() => ray.put(new Float64Array((80 * MB) / 8)), ray.ObjectStoreFullError);
});

test("shutdown removes the spill folder", async () => {
  assert.ok(readdirSync(root).some((d) => d.startsWith("spill-")));
  await ray.shutdown();
  assert.deepEqual(readdirSync(root).filter((d) => d.startsWith("spill-")), []);
  await ray.init({ numCpus: 1, objectStoreMemory: 64 * MB });
});

/** A pid no process has here. */
function deadPid(): number {
  let pid = 4_000_000;
  while (isAlive(pid)) pid++;
  return pid;
}
