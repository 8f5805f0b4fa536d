/**
 * Arrow tables as values tsray sends whole: `ray.put(table)`, a Table task argument or return
 * value arrives as a Table (with its methods), not as the plain object structured clone would
 * make of its class instances.
 *
 * A Table travels as its Arrow IPC stream bytes: one Uint8Array, which the object store keeps
 * in shared memory (from 100 KB), and `tableFromIPC` reads back as views of those bytes, so the
 * receiver's column buffers are the store's memory (zero-copy). The registration names this
 * module, so a worker that never imported tsray/data imports it when a Table reaches it.
 */
import { Table, tableFromIPC, tableToIPC, type Data } from "apache-arrow";
import * as ray from "tsray";

ray.util.registerSerializer(Table, {
  tag: "apache-arrow.Table",
  module: import.meta.url,
  serialize: (table: Table) => tableToIPC(table, "stream"),
  deserialize: (ipc: Uint8Array) => keepingAlive(tableFromIPC(ipc), ipc),
});

/**
 * tsray keeps a value's shared memory from being reused while a view that its deserializer made
 * (here `ipc`) lives; the column buffers apache-arrow makes are other views of the same memory,
 * so each holds `ipc` (a hidden property) to keep it, and with it the memory, alive as long as it
 * lives.
 */
const HOLDS = Symbol("tsray.data.ipc");

function keepingAlive(table: Table, ipc: Uint8Array): Table {
  if (!(ipc.buffer instanceof SharedArrayBuffer)) return table;
  const seen = new Set<Data>();
  const hold = (data: Data | undefined): void => {
    if (!data || seen.has(data)) return;
    seen.add(data);
    for (const buffer of [data.values, data.valueOffsets, data.nullBitmap, data.typeIds] as (ArrayBufferView | undefined)[]) {
      if (buffer && buffer.buffer === ipc.buffer) Object.defineProperty(buffer, HOLDS, { value: ipc });
    }
    for (const child of data.children) hold(child);
    for (const chunk of data.dictionary?.data ?? []) hold(chunk);
  };
  for (const batch of table.batches) hold(batch.data);
  return table;
}
