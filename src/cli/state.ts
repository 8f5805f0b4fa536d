/** `tsray status` and `tsray list`: the cluster's state as its head reports it. */
import type { ClusterStatus, Row } from "../node/state-service.js";
import { LISTABLE } from "../node/state-service.js";
import { parseFlags, UsageError } from "./args.js";
import { ClusterClient } from "./cluster-client.js";

export async function status(argv: string[]): Promise<number> {
  const { flags, positionals } = parseFlags("status", argv, { address: "string", token: "string", verbose: "boolean" });
  if (positionals.length) throw new UsageError(`tsray status: unexpected argument '${positionals[0]}'`);
  const client = await ClusterClient.connect("status", flags);
  try {
    const s = await client.request<ClusterStatus>("status");
    const lines = [`Cluster at ${client.address}`, "", `Nodes (${s.nodes.length}):`];
    for (const n of s.nodes) lines.push(`  ${n.state.padEnd(6)} ${n.node_id}  ${n.node_ip}${n.is_head_node ? "  (head)" : ""}`);
    lines.push("", "Resources (used / total):");
    for (const [name, total] of Object.entries(s.total).sort()) {
      const used = total - (s.available[name] ?? 0);
      lines.push(`  ${name.padEnd(22)} ${amount(name, used)} / ${amount(name, total)}`);
    }
    lines.push("", "Pending demand:");
    if (!s.pendingDemand.length) lines.push("  (none)");
    for (const d of s.pendingDemand) lines.push(`  ${JSON.stringify(d.resources)}: ${d.count} pending`);
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    client.close();
  }
  return 0;
}

function amount(name: string, n: number): string {
  if (name === "memory" || name === "object_store_memory") return `${(n / 2 ** 30).toFixed(2)} GiB`;
  return String(Math.round(n * 1000) / 1000);
}

const LIST_FLAGS = { address: "string", token: "string", filter: "list", limit: "number", format: "string", verbose: "boolean" } as const;

export async function list(argv: string[]): Promise<number> {
  const { flags, positionals } = parseFlags("list", argv, LIST_FLAGS);
  const [kind, extra] = positionals;
  if (!LISTABLE.includes(kind as never)) throw new UsageError(`tsray list: what to list is one of ${LISTABLE.join(", ")} (got ${kind === undefined ? "nothing" : `'${kind}'`})`);
  if (extra !== undefined) throw new UsageError(`tsray list: unexpected argument '${extra}'`);
  const format = flags.format ?? "table";
  if (format !== "table" && format !== "json") throw new UsageError(`tsray list: --format is table or json, got '${format}'`);
  const filters = (flags.filter ?? []).map((f) => {
    const eq = f.indexOf("=");
    if (eq <= 0) throw new UsageError(`tsray list: --filter takes KEY=VALUE, got '${f}'`);
    return [f.slice(0, eq), f.slice(eq + 1).toLowerCase()] as const;
  });
  const client = await ClusterClient.connect("list", flags);
  let rows: Row[];
  try {
    rows = await client.request<Row[]>("list", kind);
  } finally {
    client.close();
  }
  rows = rows.filter((r) => filters.every(([k, v]) => String(r[k] ?? "").toLowerCase() === v));
  if (flags.limit !== undefined) rows = rows.slice(0, flags.limit);
  process.stdout.write(format === "json" ? `${JSON.stringify(rows, null, 2)}\n` : table(rows));
  return 0;
}

function table(rows: Row[]): string {
  if (!rows.length) return "(none)\n";
  const keys = Object.keys(rows[0]);
  const cell = (v: unknown) => (typeof v === "object" && v !== null ? JSON.stringify(v) : String(v ?? ""));
  const cells = rows.map((r) => keys.map((k) => cell(r[k])));
  const widths = keys.map((k, i) => Math.max(k.length, ...cells.map((c) => c[i].length)));
  const line = (cs: string[]) => cs.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  return `${[line(keys.map((k) => k.toUpperCase())), ...cells.map(line)].join("\n")}\n`;
}
