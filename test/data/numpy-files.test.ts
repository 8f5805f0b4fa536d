import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import * as data from "tsray/data";
import { clusterAndFolder } from "../helpers/data-tests.js";

const tmp = clusterAndFolder("tsray-data-numpy-");

/** A .npy file made by hand, as numpy 1.0 writes one: magic, version, header length, a dict header padded to 64 bytes. */
function npy(descr: string, shape: number[], values: ArrayBufferView, opts: { fortran?: boolean } = {}): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${descr}', 'fortran_order': ${opts.fortran ? "True" : "False"}, 'shape': ${shapeText}, }`;
  header += " ".repeat(63 - ((10 + header.length) % 64)) + "\n";
  const head = Buffer.concat([Buffer.from([0x93]), Buffer.from("NUMPY"), Buffer.from([1, 0, header.length & 0xff, header.length >> 8]), Buffer.from(header, "latin1")]);
  return Buffer.concat([head, Buffer.from(values.buffer, values.byteOffset, values.byteLength)]);
}

function writeFiles(name: string, files: Record<string, Uint8Array>): string {
  const root = tmp.path(name);
  mkdirSync(root, { recursive: true });
  for (const [file, bytes] of Object.entries(files)) writeFileSync(join(root, file), bytes);
  return root;
}

test("readNumpy: 1-D arrays of every dtype give numbers (booleans for |b1), a row per element", async () => {
  const cases: [string, ArrayBufferView, unknown[]][] = [
    ["<f8", new Float64Array([1.5, -2, 3.25]), [1.5, -2, 3.25]],
    ["<f4", new Float32Array([0.5, 2]), [0.5, 2]],
    ["<i8", new BigInt64Array([-5n, 9007199254740991n]), [-5, 9007199254740991]],
    ["<i4", new Int32Array([-7, 7]), [-7, 7]],
    ["<i2", new Int16Array([-300, 300]), [-300, 300]],
    ["|i1", new Int8Array([-128, 127]), [-128, 127]],
    ["|u1", new Uint8Array([0, 255]), [0, 255]],
    ["<u2", new Uint16Array([65535]), [65535]],
    ["<u4", new Uint32Array([4294967295]), [4294967295]],
    ["<u8", new BigUint64Array([12345678901234n]), [12345678901234]],
    ["|b1", new Uint8Array([1, 0, 1]), [true, false, true]],
  ];
  for (const [descr, values, expected] of cases) {
    const n = expected.length;
    const root = writeFiles(`dtype-${descr.slice(1)}`, { "a.npy": npy(descr, [n], values) });
    const rows = await data.readNumpy(root).takeAll();
    assert.deepEqual(rows, expected.map((v) => ({ data: v })), descr);
  }
});

test("readNumpy: n-D arrays give a Tensor per row along the first axis; files of a folder in order; includePaths", async () => {
  const grid = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i);
  const root = writeFiles("tensors", { "a.npy": npy("<f4", [2, 3, 4], grid), "b.npy": npy("<f4", [1, 3, 4], grid.subarray(0, 12)), "skip.txt": new Uint8Array([1]) });
  const rows = await data.readNumpy(root, { includePaths: true }).takeAll();
  assert.equal(rows.length, 3);
  const first = rows[0]!.data as data.Tensor;
  assert.deepEqual(first.shape, [3, 4]);
  assert.ok(first.data instanceof Float32Array);
  assert.deepEqual([...first.data as Float32Array], [...grid.subarray(0, 12)]);
  assert.deepEqual([...(rows[1]!.data as data.Tensor).data as Float32Array], [...grid.subarray(12, 24)]);
  assert.equal(rows[2]!.path, join(root, "b.npy"));
});

test("writeNumpy: a numeric or tensor column becomes a .npy file per block, read back by readNumpy and with a valid header", async () => {
  const out = tmp.path("written-numbers");
  const result = await data.range(10, { overrideNumBlocks: 2 }).writeNumpy(out, { column: "id" });
  assert.equal(result.numRows, 10);
  assert.equal(result.paths.length, 2);
  for (const p of result.paths) assert.match(basename(p), /^[0-9a-f]+_\d{6}\.npy$/);
  const bytes = readFileSync(result.paths[0]!);
  assert.deepEqual([...bytes.subarray(0, 8)], [0x93, ...Buffer.from("NUMPY"), 1, 0]);
  const headerLength = bytes.readUInt16LE(8);
  assert.equal((10 + headerLength) % 64, 0, "header padded to 64 bytes");
  const header = bytes.subarray(10, 10 + headerLength).toString("latin1");
  assert.match(header, /^\{'descr': '<i8', 'fortran_order': False, 'shape': \(5,\), \} *\n$/);
  assert.deepEqual([...new BigInt64Array(bytes.buffer.slice(bytes.byteOffset + 10 + headerLength, bytes.byteOffset + bytes.length))], [0n, 1n, 2n, 3n, 4n]);
  const back = (await data.readNumpy(out).takeAll()).map((r) => r.data).sort((a, b) => (a as number) - (b as number));
  assert.deepEqual(back, Array.from({ length: 10 }, (_, i) => i));

  const tensors = tmp.path("written-tensors");
  const { paths } = await data.rangeTensor(6, { shape: [2, 2], overrideNumBlocks: 1 }).writeNumpy(tensors, { column: "data" });
  const tensorBytes = readFileSync(paths[0]!);
  assert.match(tensorBytes.subarray(10, 10 + tensorBytes.readUInt16LE(8)).toString("latin1"), /'descr': '<f8', 'fortran_order': False, 'shape': \(6, 2, 2\)/);
  const rows = await data.readNumpy(tensors).takeAll();
  assert.deepEqual(rows.map((r) => [[...(r.data as data.Tensor).shape], [...(r.data as data.Tensor).data]]),
    Array.from({ length: 6 }, (_, i) => [[2, 2], [i, i, i, i]]));
  await data.fromItems([{ ok: true }, { ok: false }], { overrideNumBlocks: 1 }).writeNumpy(tmp.path("bools"), { column: "ok" });
  assert.deepEqual(await data.readNumpy(tmp.path("bools")).takeAll(), [{ data: true }, { data: false }]);
});

test("writeNumpy and readNumpy refuse what .npy cannot hold, naming the column or the file", async () => {
  await assert.rejects(data.fromItems([{ s: "x" }]).writeNumpy(tmp.path("w1"), { column: "s" }), /column 's' is of type Utf8/);
  await assert.rejects(data.fromItems([{ v: 1 }, { v: null }], { overrideNumBlocks: 1 }).writeNumpy(tmp.path("w2"), { column: "v" }), /column 'v' holds nulls/);
  await assert.rejects(data.range(3).writeNumpy(tmp.path("w3"), { column: "nope" as never }), /no column 'nope'/);
  await assert.rejects(data.range(3).writeNumpy(tmp.path("w4"), {} as never), /needs the option column/);
  const root = writeFiles("bad", {
    "big.npy": npy(">f8", [1], new Float64Array([1])),
    "fortran.npy": npy("<f8", [2, 2], new Float64Array(4), { fortran: true }),
    "short.npy": npy("<f8", [10], new Float64Array(2)),
    "junk.npy": new Uint8Array([1, 2, 3]),
    "complex.npy": npy("<c16", [1], new Float64Array(2)),
  });
  await assert.rejects(data.readNumpy(join(root, "big.npy")).takeAll(), /big\.npy: not a readable \.npy file: dtype '>f8' is not supported/);
  await assert.rejects(data.readNumpy(join(root, "fortran.npy")).takeAll(), /fortran\.npy: .*fortran_order True/);
  await assert.rejects(data.readNumpy(join(root, "short.npy")).takeAll(), /short\.npy: .*needs 80 bytes of data, the file has 16/);
  await assert.rejects(data.readNumpy(join(root, "junk.npy")).takeAll(), /junk\.npy: not a readable \.npy file/);
  await assert.rejects(data.readNumpy(join(root, "complex.npy")).takeAll(), /complex\.npy: .*'<c16'/);
  await assert.rejects(data.readNumpy(tmp.path("missing.npy")).takeAll(), /no such file or folder: .*missing\.npy/);
});

test("files numpy itself writes and reads agree with readNumpy and writeNumpy, when python3 has numpy (skipped otherwise)", async (t) => {
  try {
    execFileSync("python3", ["-c", "import numpy"], { stdio: "ignore" });
  } catch {
    t.skip("python3 with numpy is not installed");
    return;
  }
  const root = tmp.path("by-numpy");
  mkdirSync(root, { recursive: true });
  execFileSync("python3", ["-c", `import numpy as np, sys
np.save(sys.argv[1] + "/m.npy", np.arange(12, dtype=np.int16).reshape(3, 4))
np.save(sys.argv[1] + "/v.npy", np.array([0.25, -1.0]))`, root]);
  const rows = await data.readNumpy(join(root, "m.npy")).takeAll();
  assert.deepEqual(rows.map((r) => [...(r.data as data.Tensor).data]), [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]);
  assert.deepEqual(await data.readNumpy(join(root, "v.npy")).takeAll(), [{ data: 0.25 }, { data: -1 }]);
  const out = tmp.path("for-numpy");
  const { paths } = await data.rangeTensor(3, { shape: [2], overrideNumBlocks: 1 }).writeNumpy(out, { column: "data" });
  const printed = execFileSync("python3", ["-c", "import numpy as np, sys; a = np.load(sys.argv[1]); print(a.dtype, a.shape, a.tolist())", paths[0]!], { encoding: "utf8" });
  assert.equal(printed.trim(), "float64 (3, 2) [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]");
});
