// How numbers, sizes, times and ids read on the pages.

export function count(n: number): string {
  return n.toLocaleString("en-US");
}

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(n < 10 ? 1 : 0)} ${units[i]}`;
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

/** A time of day, with the date when it is not today. */
export function time(ms: number | null | undefined): string {
  if (!ms) return "–";
  const d = new Date(ms);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString("en-GB") : d.toLocaleString("en-GB");
}

export function ago(ms: number): string {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  return `${Math.floor(s / 3600)}h ago`;
}

/**
 * A long id's start and end: ids made from their job's or owner's id share their start, so
 * the end is what tells them apart on a page (the full one on hover).
 */
export function shortId(id: string): string {
  return id.length > 14 ? `${id.slice(0, 4)}…${id.slice(-6)}` : id;
}

/** Resources that say where a node is (node:IP) or repeat the object store's size: not worth a line. */
export function isBookkeeping(resource: string): boolean {
  return resource.startsWith("node:") || resource === "object_store_memory";
}

/** A resource's amount: whole numbers plain, memory-like ones as sizes. */
export function amount(name: string, n: number): string {
  if (/memory/i.test(name)) return bytes(n);
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}
