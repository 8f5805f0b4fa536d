/**
 * Image files (PNG through pngjs, JPEG through jpeg-js, both pure JS) as a row { image }: an
 * HxWxC Uint8 Tensor. Without `mode` a PNG keeps its own channels: L (C = 1) for grayscale,
 * RGB (C = 3), RGBA (C = 4) for images with alpha (grayscale with alpha too); a JPEG is RGB
 * (jpeg-js gives grayscale JPEGs as RGB; mode "L" makes them L again). `mode` converts as
 * PIL does (L = R·299/1000 + G·587/1000 + B·114/1000; alpha dropped, or added as 255); `size`
 * [h, w] resizes by bilinear interpolation (pixel centres aligned, as OpenCV's INTER_LINEAR).
 */
import jpeg from "jpeg-js";
import pngjs from "pngjs";
import type { Table } from "apache-arrow";
import { tableOfColumns, tensorBatchColumn } from "../tensor.js";

export type ImageMode = "L" | "RGB" | "RGBA";
export interface ImageOptions { readonly size: readonly [number, number] | null; readonly mode: ImageMode | null }

/** A decoded image: height × width pixels of `channels` bytes each, row-major. */
export interface Pixels { readonly height: number; readonly width: number; readonly channels: number; readonly data: Uint8Array }

const CHANNELS: Record<ImageMode, number> = { L: 1, RGB: 3, RGBA: 4 };

export function readImage(bytes: Uint8Array, path: string, opts: ImageOptions): Table {
  let pixels = decodeImage(bytes, path);
  if (opts.mode) pixels = convertMode(pixels, CHANNELS[opts.mode]);
  if (opts.size) pixels = resizeBilinear(pixels, opts.size[0], opts.size[1]);
  return tableOfColumns([["image", tensorBatchColumn("image", { data: pixels.data, shape: [1, pixels.height, pixels.width, pixels.channels] })]]);
}

export function decodeImage(bytes: Uint8Array, path: string): Pixels {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) {
    let png: ReturnType<typeof pngjs.PNG.sync.read> & { color?: boolean; alpha?: boolean };
    try {
      png = pngjs.PNG.sync.read(buffer);
    } catch (err) {
      throw new Error(`${path}: malformed PNG: ${(err as Error).message}`);
    }
    // pngjs gives RGBA; keep the channels the file has.
    const rgba: Pixels = { height: png.height, width: png.width, channels: 4, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.length) };
    return convertMode(rgba, png.alpha ? 4 : png.color ? 3 : 1);
  }
  if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    let image: { width: number; height: number; data: Uint8Array };
    try {
      image = jpeg.decode(buffer, { useTArray: true, formatAsRGBA: false });
    } catch (err) {
      throw new Error(`${path}: malformed JPEG: ${(err as Error).message ?? String(err)}`);
    }
    const channels = image.data.length / (image.width * image.height);
    if (channels !== 3 && channels !== 1) throw new Error(`${path}: a JPEG of ${channels} channels is not supported`);
    return { height: image.height, width: image.width, channels, data: image.data };
  }
  throw new Error(`${path}: not a PNG or JPEG image (unknown file signature)`);
}

/** The pixels with `channels` channels (1: L, 3: RGB, 4: RGBA), as PIL's convert(). */
export function convertMode(pixels: Pixels, channels: number): Pixels {
  if (pixels.channels === channels) return pixels;
  const n = pixels.height * pixels.width;
  const from = pixels.channels;
  const src = pixels.data;
  const out = new Uint8Array(n * channels);
  for (let p = 0; p < n; p++) {
    const s = p * from;
    const r = src[s]!;
    const g = from >= 3 ? src[s + 1]! : r;
    const b = from >= 3 ? src[s + 2]! : r;
    const a = from === 4 ? src[s + 3]! : from === 2 ? src[s + 1]! : 255;
    const d = p * channels;
    if (channels === 1) {
      out[d] = from === 1 ? r : Math.floor((r * 299 + g * 587 + b * 114 + 500) / 1000);
    } else {
      out[d] = r; out[d + 1] = g; out[d + 2] = b;
      if (channels === 4) out[d + 3] = a;
    }
  }
  return { height: pixels.height, width: pixels.width, channels, data: out };
}

/** Bilinear resize to height × width: each output pixel centre mapped back onto the source, clamped at the edges. */
export function resizeBilinear(pixels: Pixels, height: number, width: number): Pixels {
  if (pixels.height === height && pixels.width === width) return pixels;
  const { channels: c, data: src } = pixels;
  const out = new Uint8Array(height * width * c);
  const sy = pixels.height / height;
  const sx = pixels.width / width;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), pixels.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, pixels.height - 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), pixels.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, pixels.width - 1);
      const wx = fx - x0;
      for (let k = 0; k < c; k++) {
        const top = src[(y0 * pixels.width + x0) * c + k]! * (1 - wx) + src[(y0 * pixels.width + x1) * c + k]! * wx;
        const bottom = src[(y1 * pixels.width + x0) * c + k]! * (1 - wx) + src[(y1 * pixels.width + x1) * c + k]! * wx;
        out[(y * width + x) * c + k] = Math.round(top * (1 - wy) + bottom * wy);
      }
    }
  }
  return { height, width, channels: c, data: out };
}
