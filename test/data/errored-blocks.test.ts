// maxErroredBlocks (DataContext): blocks whose UDF failed (after retries) are dropped with a
// warning naming the operator and the error, up to the limit (-1: any); beyond it, or at the
// default 0, the consumption rejects with RayTaskError.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ray from "tsray";
import * as data from "tsray/data";
import { clusterAndFolder } from "../helpers/data-tests.js";

clusterAndFolder("tsray-data-errored-");

/** Fails on the rows whose id is listed. */
function failOn(row: { id: number }, bad: number[]) {
  if (bad.includes(row.id)) throw new Error(`row ${row.id} is bad`);
  return { id: row.id };
}

class FailOn {
  call(row: { id: number }, bad: number[]) {
    return failOn(row, bad);
  }
}

/** range(30) in 6 blocks of 5 rows, through `udf` with these bad ids, made while the context allows dropping `maxErroredBlocks` blocks. */
function dataset(udf: typeof failOn | typeof FailOn, bad: number[], maxErroredBlocks = 0, opts: data.MapOptions = {}): data.Dataset<{ id: number }> {
  const context = data.DataContext.getCurrent();
  const before = context.maxErroredBlocks;
  context.maxErroredBlocks = maxErroredBlocks;
  try {
    // The dataset keeps a copy of the context as it is now.
    return data.range(30, { overrideNumBlocks: 6 }).map(udf, { fnArgs: [bad], ...opts });
  } finally {
    context.maxErroredBlocks = before;
  }
}

/** Runs `fn` with stderr captured; returns its result and what was written. */
async function capturingStderr<T>(fn: () => Promise<T>): Promise<{ result: T; stderr: string }> {
  const write = process.stderr.write;
  let stderr = "";
  process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
    stderr += String(chunk);
    return (write as (...a: unknown[]) => boolean).call(process.stderr, chunk, ...rest);
  }) as typeof process.stderr.write;
  try {
    return { result: await fn(), stderr };
  } finally {
    process.stderr.write = write;
  }
}

const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

test("by default (0) a failed block rejects the consumption with RayTaskError", async () => {
  await assert.rejects(dataset(failOn, [7]).takeAll(), (e: unknown) => e instanceof ray.RayTaskError && /row 7 is bad/.test((e as Error).message));
});

test("up to maxErroredBlocks failed blocks are dropped with a warning naming the operator and the error", async () => {
  const { result, stderr } = await capturingStderr(() => dataset(failOn, [7], 1).takeAll());
  assert.deepEqual(result.map((r) => r.id), [...ids(0, 5), ...ids(10, 30)]);
  assert.match(stderr, /ReadRange->Map\(failOn\): dropped a block whose UDF failed \(maxErroredBlocks: 1 of 1 allowed\): Error: row 7 is bad/);
});

test("one more failed block than allowed rejects with its RayTaskError", async () => {
  await assert.rejects(capturingStderr(() => dataset(failOn, [7, 22], 1).takeAll()), (e: unknown) => e instanceof ray.RayTaskError && /row 22 is bad/.test((e as Error).message));
});

test("-1 drops any number of failed blocks, each after its retries", async () => {
  const { result, stderr } = await capturingStderr(() => dataset(failOn, [0, 12, 29], -1, { maxRetries: 1, retryExceptions: true }).takeAll());
  assert.deepEqual(result.map((r) => r.id), [...ids(5, 10), ...ids(15, 25)]);
  assert.equal(stderr.match(/dropped a block whose UDF failed \(maxErroredBlocks: any allowed\)/g)?.length, 3);
});

test("a class UDF's failed blocks on an actor pool are dropped the same way", async () => {
  const { result, stderr } = await capturingStderr(() => dataset(FailOn, [3, 26], 2, { concurrency: 2 }).takeAll());
  assert.deepEqual(result.map((r) => r.id), ids(5, 25));
  assert.match(stderr, /Map\(FailOn\): dropped a block whose UDF failed \(maxErroredBlocks: 2 of 2 allowed\): Error: row 26 is bad/);
});

test("maxErroredBlocks out of range is refused by name", () => {
  assert.throws(() => dataset(failOn, [], -2), /DataContext.maxErroredBlocks must be an integer ≥ -1/);
});
