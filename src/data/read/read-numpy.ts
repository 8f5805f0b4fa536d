/**
 * .npy files (numpy's format, version 1 to 3): a magic string, a header that is a Python dict
 * literal ({'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }) padded to 64 bytes, then
 * the values in C order. Rows { data } along the first axis: numbers (booleans for |b1) for a
 * 1-D array, Tensors of the other axes for an n-D one. Little-endian dtypes only, and C order:
 * anything else is an error naming the file.
 */
import { Bool, makeVector, Table, vectorFromArray } from "apache-arrow";
import { tableOfColumns, tensorBatchColumn } from "../tensor.js";
import type { TypedArray } from "../types.js";

type TypedArrayClass = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): TypedArray; new (length: number): TypedArray; BYTES_PER_ELEMENT: number };

/** The dtypes read and written, by numpy's descr ("|" is numpy's mark for one-byte types; "<" is accepted too). */
export const NPY_DTYPES: Readonly<Record<string, TypedArrayClass>> = {
  "<f8": Float64Array, "<f4": Float32Array,
  "<i8": BigInt64Array, "<i4": Int32Array, "<i2": Int16Array, "|i1": Int8Array, "<i1": Int8Array,
  "<u8": BigUint64Array, "<u4": Uint32Array, "<u2": Uint16Array, "|u1": Uint8Array, "<u1": Uint8Array,
  "|b1": Uint8Array, "<b1": Uint8Array,
} as unknown as Record<string, TypedArrayClass>;

export const NPY_MAGIC = "\x93NUMPY";

export interface NpyArray { readonly descr: string; readonly shape: number[]; readonly data: TypedArray }

export function parseNpy(bytes: Uint8Array, path: string): NpyArray {
  const fail = (why: string): never => { throw new Error(`${path}: not a readable .npy file: ${why}`); };
  if (bytes.length < 10 || String.fromCharCode(...bytes.subarray(0, 6)) !== NPY_MAGIC) fail("it does not start with \\x93NUMPY");
  const major = bytes[6]!;
  if (major < 1 || major > 3) fail(`format version ${major}.${bytes[7]} is not 1, 2 or 3`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length) fail("the header is cut short");
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(bytes.subarray(headerStart, dataStart));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) fail(`malformed header ${JSON.stringify(header.trim())}`);
  const Ctor = NPY_DTYPES[descr!];
  if (!Ctor) fail(`dtype '${descr}' is not supported (supported: <f8 <f4 <i8 <i4 <i2 <i1 <u1 <u2 <u4 <u8 |b1, little-endian)`);
  if (fortran === "True") fail("fortran_order True is not supported (save a C-ordered array)");
  const shape = shapeText!.split(",").map((s) => s.trim()).filter((s) => s !== "").map(Number);
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`malformed shape (${shapeText})`);
  const count = shape.reduce((a, b) => a * b, 1);
  const byteLength = count * Ctor!.BYTES_PER_ELEMENT;
  if (bytes.length - dataStart < byteLength) fail(`shape (${shape.join(", ")}) of ${descr} needs ${byteLength} bytes of data, the file has ${bytes.length - dataStart}`);
  const offset = bytes.byteOffset + dataStart;
  // A view where the values are aligned (numpy pads the header to 64 bytes), else a copy.
  const data = offset % Ctor!.BYTES_PER_ELEMENT === 0
    ? new Ctor!(bytes.buffer, offset, count)
    : new Ctor!(bytes.slice(dataStart, dataStart + byteLength).buffer, 0, count);
  return { descr: descr!, shape, data };
}

/** An array as a block: rows along its first axis (a 0-d array is one row). */
export function npyTable(array: NpyArray): Table {
  const { descr, shape, data } = array;
  const isBool = descr.endsWith("b1");
  if (shape.length <= 1) {
    if (isBool) return new Table({ data: vectorFromArray(Array.from(data as Uint8Array, (b) => b !== 0), new Bool()) });
    return new Table({ data: makeVector(data as Exclude<TypedArray, Uint8ClampedArray>) });
  }
  return tableOfColumns([["data", tensorBatchColumn("data", { data, shape })]]);
}
