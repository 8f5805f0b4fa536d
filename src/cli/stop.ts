/** `tsray stop`: every node process of this user on this machine, cleanly, then their session folders. */
import { isAlive, liveSessions, removeSession, type NodeSession } from "../node/session.js";
import { parseFlags, UsageError } from "./args.js";

/** How long a node has to stop after SIGTERM before it gets SIGKILL. */
const GRACE_MS = 10_000;
const POLL_MS = 50;

export async function stop(argv: string[]): Promise<number> {
  const { flags, positionals } = parseFlags("stop", argv, { force: "boolean", verbose: "boolean" });
  if (positionals.length) throw new UsageError(`tsray stop: unexpected argument '${positionals[0]}'`);
  const sessions = liveSessions();
  await Promise.all(sessions.map((s) => stopNode(s, flags.force ?? false)));
  if (sessions.length) process.stdout.write(`Stopped ${sessions.length} node${sessions.length > 1 ? "s" : ""}.\n`);
  return 0;
}

async function stopNode(s: NodeSession, force: boolean): Promise<void> {
  signal(s, force ? "SIGKILL" : "SIGTERM");
  // A process that is not our child can only be watched, not awaited.
  for (const deadline = Date.now() + GRACE_MS; isAlive(s.pid) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, POLL_MS));
  if (isAlive(s.pid)) signal(s, "SIGKILL");
  while (isAlive(s.pid)) await new Promise((r) => setTimeout(r, POLL_MS));
  removeSession(s.nodeId);
}

/** A background node leads its process group: the signal reaches every process it started. */
function signal(s: NodeSession, sig: NodeJS.Signals): void {
  try {
    process.kill(s.group ? -s.pid : s.pid, sig);
  } catch {
    // Gone already.
  }
}
