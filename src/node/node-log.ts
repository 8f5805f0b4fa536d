/**
 * Reading a node's log (its `logs/node.log`): what the node said, and each worker's lines,
 * prefixed by the worker itself with `(NAME pid=PID, worker=ID)` (see worker/worker-main.ts).
 * `tsray logs` picks a task's, an actor's or the node's lines out of it.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";

export interface LogQuery {
  /** Lines of these workers only (a task's or an actor's), and of this task name if given. */
  workers?: string[];
  name?: string;
  /** Lines holding this text, in any case. */
  text?: string;
  /** Byte offset to read from (a follower's `next`); absent: the last `lines` lines. */
  from?: number;
  lines?: number;
}

export interface LogChunk {
  lines: string[];
  /** Where the next read starts (the file's size when read). */
  next: number;
}

export function readNodeLog(file: string, q: LogQuery): LogChunk {
  if (!existsSync(file)) return { lines: [], next: 0 };
  const size = statSync(file).size;
  const from = q.from === undefined || q.from > size ? 0 : q.from;
  const buf = Buffer.alloc(size - from);
  const fd = openSync(file, "r");
  try {
    readSync(fd, buf, 0, buf.length, from);
  } finally {
    closeSync(fd);
  }
  // A line still being written is read whole next time.
  const text = buf.toString("utf8");
  const end = text.lastIndexOf("\n") + 1;
  let lines = text.slice(0, end).split("\n").slice(0, -1);
  if (q.workers) lines = lines.filter((l) => q.workers!.some((w) => l.includes(`, worker=${w})`)) && (q.name === undefined || l.startsWith(`(${q.name} `)));
  if (q.text) lines = lines.filter((l) => l.toLowerCase().includes(q.text!.toLowerCase()));
  if (q.from === undefined && q.lines !== undefined) lines = lines.slice(-q.lines);
  return { lines, next: from + Buffer.byteLength(text.slice(0, end)) };
}
