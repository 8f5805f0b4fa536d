/** `tsray status`, `list`, `timeline` and `memory`: the cluster's state as its head reports it. */
import { writeFileSync } from "node:fs";
import type { ClusterStatus, MemorySummary, Row, TraceEvent } from "../node/state-service.js";
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

/** Columns left out of tables (`--format json` has them): too long for a line. */
const WIDE = new Set(["error_stack"]);

function table(rows: Row[]): string {
  if (!rows.length) return "(none)\n";
  const keys = Object.keys(rows[0]).filter((k) => !WIDE.has(k));
  const cell = (v: unknown) => (typeof v === "object" && v !== null ? JSON.stringify(v) : String(v ?? ""));
  const cells = rows.map((r) => keys.map((k) => cell(r[k])));
  const widths = keys.map((k, i) => Math.max(k.length, ...cells.map((c) => c[i].length)));
  const line = (cs: string[]) => cs.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  return `${[line(keys.map((k) => k.toUpperCase())), ...cells.map(line)].join("\n")}\n`;
}

/** `tsray timeline`: the recent tasks as Chrome trace events, to a file or stdout. */
export async function timeline(argv: string[]): Promise<number> {
  const { flags, positionals } = parseFlags("timeline", argv, { address: "string", token: "string", output: "string", verbose: "boolean" });
  if (positionals.length) throw new UsageError(`tsray timeline: unexpected argument '${positionals[0]}'`);
  const client = await ClusterClient.connect("timeline", flags);
  let events: TraceEvent[];
  try {
    events = await client.request<TraceEvent[]>("timeline");
  } finally {
    client.close();
  }
  const text = `${JSON.stringify(events)}\n`;
  if (flags.output === undefined) process.stdout.write(text);
  else {
    writeFileSync(flags.output, text);
    const tasks = events.filter((e) => e.ph === "X").length;
    process.stdout.write(`Wrote ${tasks} task${tasks === 1 ? "" : "s"} to ${flags.output}: open it in https://ui.perfetto.dev or chrome://tracing\n`);
  }
  return 0;
}

/** `tsray memory`: the objects the head owns, and how full the store is. */
export async function memory(argv: string[]): Promise<number> {
  const { flags, positionals } = parseFlags("memory", argv, { address: "string", token: "string", format: "string", verbose: "boolean" });
  if (positionals.length) throw new UsageError(`tsray memory: unexpected argument '${positionals[0]}'`);
  const format = flags.format ?? "table";
  if (format !== "table" && format !== "json") throw new UsageError(`tsray memory: --format is table or json, got '${format}'`);
  const client = await ClusterClient.connect("memory", flags);
  let m: MemorySummary;
  try {
    m = await client.request<MemorySummary>("memory");
  } finally {
    client.close();
  }
  if (format === "json") {
    process.stdout.write(`${JSON.stringify(m, null, 2)}\n`);
    return 0;
  }
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
  process.stdout.write(
    `${table(m.objects)}\nObject store: ${mib(m.store.used)} used of ${mib(m.store.capacity)}; spilled to disk: ${mib(m.spilledBytes)}; ` +
      `kept on worker nodes: ${mib(m.onWorkerNodesBytes)}; ${m.objects.length} object${m.objects.length === 1 ? "" : "s"}\n`,
  );
  return 0;
}

/** How often `tsray logs --follow` asks for what was written since. */
const FOLLOW_EVERY_MS = 500;

/** `tsray logs`: a task's, an actor's or the head node's lines of its log; `--follow` keeps printing them. */
export async function logs(argv: string[]): Promise<number> {
  const { flags, positionals } = parseFlags("logs", argv, {
    address: "string", token: "string", "task-id": "string", "actor-id": "string", "node-id": "string", follow: "boolean", verbose: "boolean",
  });
  if (positionals.length) throw new UsageError(`tsray logs: unexpected argument '${positionals[0]}'`);
  const q = { taskId: flags["task-id"], actorId: flags["actor-id"], nodeId: flags["node-id"] };
  if (Object.values(q).filter((v) => v !== undefined).length !== 1) throw new UsageError("tsray logs: give one of --task-id, --actor-id or --node-id");
  const client = await ClusterClient.connect("logs", flags);
  try {
    let chunk = await client.request<{ lines: string[]; next: number }>("logs", q);
    for (;;) {
      if (chunk.lines.length) process.stdout.write(`${chunk.lines.join("\n")}\n`);
      if (!flags.follow) return 0;
      await new Promise((r) => setTimeout(r, FOLLOW_EVERY_MS));
      chunk = await client.request<{ lines: string[]; next: number }>("logs", { ...q, from: chunk.next });
    }
  } finally {
    client.close();
  }
}
