/**
 * Opening a Parquet file for hyparquet: an AsyncBuffer over one open file handle, so hyparquet
 * reads only the byte ranges it asks for (the footer, then the chunks of the projected columns),
 * never the whole file. Used by read tasks and, in the consuming process, for footers alone.
 */
import { open, type FileHandle } from "node:fs/promises";
import { parquetMetadataAsync, type AsyncBuffer, type FileMetaData } from "hyparquet";

export interface OpenParquet { readonly file: AsyncBuffer; close(): Promise<void> }

export async function openParquet(path: string): Promise<OpenParquet> {
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new Error(`no such file: ${path}`);
    throw err;
  }
  const { size } = await handle.stat();
  const file: AsyncBuffer = {
    byteLength: size,
    async slice(start: number, end = size) {
      const bytes = new Uint8Array(Math.max(0, end - start));
      let done = 0;
      while (done < bytes.length) {
        const { bytesRead } = await handle.read(bytes, done, bytes.length - done, start + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return bytes.buffer;
    },
  };
  return { file, close: () => handle.close() };
}

/**
 * The footer of a file, read with a small first fetch (its last 8 bytes give the footer's length,
 * then the footer is read exactly), so counting rows or reading the schema reads no column data.
 */
export async function readFooter(path: string): Promise<FileMetaData> {
  const opened = await openParquet(path);
  try {
    return await footerOf(path, opened.file, 8);
  } finally {
    await opened.close();
  }
}

export async function footerOf(path: string, file: AsyncBuffer, initialFetchSize?: number): Promise<FileMetaData> {
  try {
    if (file.byteLength < 12) throw new Error(`${file.byteLength} bytes is too short for a Parquet file`);
    return await parquetMetadataAsync(file, initialFetchSize === undefined ? {} : { initialFetchSize });
  } catch (err) {
    throw new Error(`${path}: not a readable Parquet file: ${(err as Error).message}`);
  }
}
