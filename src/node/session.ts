/**
 * Session folders: one per node process this user started on this machine, under
 * `<os.tmpdir()>/tsray/` (TSRAY_TMPDIR overrides it), mode 700: the node's description
 * (`node.json`: id, address, pid, ports), its logs, and on the head the cluster token (`token`,
 * mode 600). `tsray stop`, `tsray status` and `init({ address: "auto" })` find nodes here.
 */
import { chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { isAlive } from "../common/process-alive.js";

export { isAlive };

export interface NodeSession {
  nodeId: string;
  /** HOST:PORT of the node's listener. */
  address: string;
  port: number;
  pid: number;
  head: boolean;
  /** Started in the background as the leader of its own process group (`stop` signals the group). */
  group: boolean;
  /** The head's HTTP API (jobs; the dashboard later), when it serves one. */
  dashboardUrl?: string;
  /** Set when the node's port speaks TLS: the PEM file that verifies its certificate (its CA, or the certificate itself). */
  tlsCa?: string;
  /** The head's address, for a worker node. */
  headAddress?: string;
  version: string;
  startedAt: number;
}

export function sessionRoot(): string {
  return process.env.TSRAY_TMPDIR || path.join(os.tmpdir(), "tsray");
}

export function sessionDir(nodeId: string): string {
  return path.join(sessionRoot(), `node-${nodeId}`);
}

/** Creates the node's folder (mode 700) with its logs folder; returns the folder. */
export function createSessionDir(nodeId: string): string {
  mkdirSync(sessionRoot(), { recursive: true, mode: 0o700 });
  const dir = sessionDir(nodeId);
  mkdirSync(path.join(dir, "logs"), { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  return dir;
}

export function writeSession(session: NodeSession, token?: string): void {
  const dir = sessionDir(session.nodeId);
  if (token !== undefined) writeFileSync(path.join(dir, "token"), token, { mode: 0o600 });
  // Written last, whole: a reader that finds node.json finds the token too.
  const tmp = path.join(dir, "node.json.tmp");
  writeFileSync(tmp, JSON.stringify(session, null, 2), { mode: 0o600 });
  renameSync(tmp, path.join(dir, "node.json"));
}

export function removeSession(nodeId: string): void {
  rmSync(sessionDir(nodeId), { recursive: true, force: true });
}

/** The sessions of node processes still running (folders of dead ones are removed on the way). */
export function liveSessions(): NodeSession[] {
  let names: string[];
  try {
    names = readdirSync(sessionRoot());
  } catch {
    return [];
  }
  const out: NodeSession[] = [];
  for (const name of names) {
    if (!name.startsWith("node-")) continue;
    let s: NodeSession;
    try {
      s = JSON.parse(readFileSync(path.join(sessionRoot(), name, "node.json"), "utf8")) as NodeSession;
    } catch {
      continue; // starting (no node.json yet), or not ours
    }
    if (isAlive(s.pid)) out.push(s);
    else removeSession(s.nodeId);
  }
  return out;
}

/**
 * How to reach `address` over TLS, if it needs it: TSRAY_TLS_CA (a PEM file), or what the head on
 * this machine recorded; undefined for plain TCP.
 */
export function tlsFor(address: string): { ca: Buffer } | undefined {
  const file = process.env.TSRAY_TLS_CA || liveSessions().find((s) => s.address === address)?.tlsCa;
  return file ? { ca: readFileSync(file) } : undefined;
}

/** TSRAY_TOKEN, unless unset or empty. */
export function envToken(): string | undefined {
  return process.env.TSRAY_TOKEN || undefined;
}

/**
 * The cluster token for the head at `address` (CLI.md's precedence): the one given (`--token`,
 * `init({ token })`), else TSRAY_TOKEN, else the session file of that head, on its machine.
 */
export function clusterToken(address: string | undefined, given?: string): string | undefined {
  return given ?? envToken() ?? (address === undefined ? undefined : localToken(address));
}

/** The token the head on this machine keeps, if it is here. */
function localToken(address: string): string | undefined {
  const head = liveSessions().find((s) => s.head && s.address === address);
  if (!head) return undefined;
  try {
    return readFileSync(path.join(sessionDir(head.nodeId), "token"), "utf8").trim();
  } catch {
    return undefined;
  }
}
