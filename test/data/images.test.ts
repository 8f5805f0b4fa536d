import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import jpeg from "jpeg-js";
import pngjs from "pngjs";
import * as data from "tsray/data";
import { clusterAndFolder } from "../helpers/data-tests.js";

const tmp = clusterAndFolder("tsray-data-images-");

/** RGBA pixels of a w × h test pattern: red grows along x, green along y, blue and alpha vary. */
function pattern(w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = (y * w + x) * 4;
      out[p] = Math.round((x * 255) / Math.max(1, w - 1));
      out[p + 1] = Math.round((y * 255) / Math.max(1, h - 1));
      out[p + 2] = (x * 7 + y * 13) % 256;
      out[p + 3] = 128 + ((x + y) % 2) * 127;
    }
  }
  return out;
}

/** A PNG of the pattern; colorType 0: grayscale (of the red channel), 2: RGB, 6: RGBA. */
function png(w: number, h: number, colorType: 0 | 2 | 6): Buffer {
  const image = new pngjs.PNG({ width: w, height: h });
  const rgba = pattern(w, h);
  if (colorType === 0) for (let p = 0; p < w * h; p++) rgba[p * 4 + 1] = rgba[p * 4 + 2] = rgba[p * 4]!;
  // Opaque unless the PNG keeps alpha (pngjs would blend the alpha into the colours it writes).
  if (colorType !== 6) for (let p = 0; p < w * h; p++) rgba[p * 4 + 3] = 255;
  image.data = Buffer.from(rgba);
  return pngjs.PNG.sync.write(image, { colorType });
}

/** The pattern's pixels with these channels (RGB: 3, RGBA: 4, grayscale of red: 1). */
function expectedPixels(w: number, h: number, channels: 1 | 3 | 4): number[] {
  const rgba = pattern(w, h);
  const out: number[] = [];
  for (let p = 0; p < w * h; p++) out.push(...Array.from(rgba.subarray(p * 4, p * 4 + channels)));
  return out;
}

function writeImages(name: string, files: Record<string, Uint8Array>): string {
  const root = tmp.path(name);
  mkdirSync(root, { recursive: true });
  for (const [file, bytes] of Object.entries(files)) writeFileSync(join(root, file), bytes);
  return root;
}

test("readImages: PNGs decode to HxWxC Uint8 tensors with their own channels (L, RGB, RGBA); only image files by default", async () => {
  const root = writeImages("png", { "a_gray.png": png(5, 3, 0), "b_rgb.png": png(5, 3, 2), "c_rgba.png": png(5, 3, 6), "notes.txt": new Uint8Array([1]) });
  const rows = await data.readImages(root, { includePaths: true }).takeAll();
  assert.deepEqual(rows.map((r) => r.path), ["a_gray.png", "b_rgb.png", "c_rgba.png"].map((f) => join(root, f)));
  const [gray, rgb, rgba] = rows.map((r) => r.image);
  assert.deepEqual(gray!.shape, [3, 5, 1]);
  assert.deepEqual([...gray!.data], expectedPixels(5, 3, 1));
  assert.deepEqual(rgb!.shape, [3, 5, 3]);
  assert.ok(rgb!.data instanceof Uint8Array);
  assert.deepEqual([...rgb!.data], expectedPixels(5, 3, 3));
  assert.deepEqual(rgba!.shape, [3, 5, 4]);
  assert.deepEqual([...rgba!.data], expectedPixels(5, 3, 4));
});

test("readImages: a JPEG decodes to RGB pixels close to what was encoded (it is lossy)", async () => {
  const w = 16;
  const h = 8;
  const encoded = jpeg.encode({ width: w, height: h, data: Buffer.from(pattern(w, h)) }, 95);
  const root = writeImages("jpeg", { "p.jpg": encoded.data, "q.JPEG": encoded.data });
  const rows = await data.readImages(root).takeAll();
  assert.equal(rows.length, 2);
  const image = rows[0]!.image;
  assert.deepEqual(image.shape, [h, w, 3]);
  const expected = expectedPixels(w, h, 3);
  const meanError = expected.reduce((sum, v, i) => sum + Math.abs(v - image.data[i]!), 0) / expected.length;
  assert.ok(meanError < 6, `mean absolute error ${meanError.toFixed(2)} per channel`);
});

test("mode converts (RGBA → RGB drops alpha, RGB → L as PIL weighs it, L → RGBA) and size resizes bilinearly", async () => {
  const root = writeImages("convert", { "c.png": png(4, 2, 6) });
  const [rgb] = await data.readImages(root, { mode: "RGB" }).takeAll();
  assert.deepEqual([...rgb!.image.data], expectedPixels(4, 2, 3));
  const [l] = await data.readImages(root, { mode: "L" }).takeAll();
  const src = expectedPixels(4, 2, 3);
  assert.deepEqual(l!.image.shape, [2, 4, 1]);
  assert.deepEqual([...l!.image.data], Array.from({ length: 8 }, (_, p) => Math.floor((src[p * 3]! * 299 + src[p * 3 + 1]! * 587 + src[p * 3 + 2]! * 114 + 500) / 1000)));
  const grayRoot = writeImages("gray-to-rgba", { "g.png": png(2, 2, 0) });
  const [rgba] = await data.readImages(grayRoot, { mode: "RGBA" }).takeAll();
  assert.deepEqual([...rgba!.image.data], expectedPixels(2, 2, 1).flatMap((v) => [v, v, v, 255]));

  // 2x2 → 4x4, one channel: each output centre maps to (x + 0.5) / 2 - 0.5 in the source, clamped to the edges.
  const small = writeImages("resize", { "s.png": png(2, 2, 0) });
  const [big] = await data.readImages(small, { size: [4, 4] }).takeAll();
  assert.deepEqual(big!.image.shape, [4, 4, 1]);
  const g = expectedPixels(2, 2, 1);
  const at = (y: number, x: number) => g[y * 2 + x]!;
  const expected: number[] = [];
  for (let y = 0; y < 4; y++) {
    for (let x = 0; x < 4; x++) {
      const fy = Math.min(Math.max((y + 0.5) / 2 - 0.5, 0), 1);
      const fx = Math.min(Math.max((x + 0.5) / 2 - 0.5, 0), 1);
      const top = at(0, 0) * (1 - fx) + at(0, 1) * fx;
      const bottom = at(1, 0) * (1 - fx) + at(1, 1) * fx;
      expected.push(Math.round(top * (1 - fy) + bottom * fy));
    }
  }
  assert.deepEqual([...big!.image.data], expected);
  // Images of different sizes made one size, so they fit in one block.
  const mixed = writeImages("mixed", { "a.png": png(6, 4, 2), "b.png": png(3, 5, 2) });
  const resized = await data.readImages(mixed, { size: [2, 3], mode: "RGB", overrideNumBlocks: 1 }).takeAll();
  assert.deepEqual(resized.map((r) => r.image.shape), [[2, 3, 3], [2, 3, 3]]);
});

test("bad input: a malformed image and a missing path are named; options out of range are refused", async () => {
  const root = writeImages("bad", { "broken.png": new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]), "fake.jpg": new Uint8Array([1, 2, 3]) });
  await assert.rejects(data.readImages(join(root, "broken.png")).takeAll(), /broken\.png: malformed PNG/);
  await assert.rejects(data.readImages(join(root, "fake.jpg")).takeAll(), /fake\.jpg: not a PNG or JPEG image/);
  await assert.rejects(data.readImages(tmp.path("nowhere")).takeAll(), /no such file or folder: .*nowhere/);
  assert.throws(() => data.readImages(root, { size: [0, 2] }), /option size/);
  assert.throws(() => data.readImages(root, { mode: "CMYK" as never }), /option mode/);
});
