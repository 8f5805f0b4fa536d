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
import { Table, tableFromIPC, tableToIPC } from "apache-arrow";
import * as ray from "tsray";

ray.util.registerSerializer(Table, {
  tag: "apache-arrow.Table",
  module: import.meta.url,
  serialize: (table: Table) => tableToIPC(table, "stream"),
  deserialize: (ipc: Uint8Array) => tableFromIPC(ipc),
});
