/**
 * The tsray command (shared/spec/CLI.md). Errors are one line on stderr and a non-zero exit:
 * 2 for a mistake in the command, 1 for a failure; the stack only with --verbose.
 */
import { packageVersion } from "../common/version.js";
import { UsageError } from "./args.js";
import { job } from "./job.js";
import { serveCommand } from "./serve.js";
import { start } from "./start.js";
import { list, logs, memory, status, timeline } from "./state.js";
import { stop } from "./stop.js";
import { LATER, USAGE, type Verb } from "./usage.js";

const RUN: Partial<Record<Verb, (argv: string[]) => Promise<number>>> = { start, stop, status, list, job, timeline, memory, logs, serve: serveCommand };

export async function main(args: string[]): Promise<void> {
  const [verb, ...rest] = args;
  const verbs = Object.keys(USAGE);
  if (!verb || verb === "--help" || verb === "-h") {
    process.stdout.write(`tsray ${packageVersion()}\n\nUsage: tsray <${verbs.join("|")}> [options]   (tsray <command> --help)\n`);
    return;
  }
  if (verb === "--version" || verb === "-V") {
    process.stdout.write(`${packageVersion()}\n`);
    return;
  }
  if (!Object.hasOwn(USAGE, verb)) return fail(2, `tsray: unknown command '${verb}' (commands: ${verbs.join(", ")}; see tsray --help)`);
  const v = verb as Verb;
  const later = LATER[v];
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(`Usage:\n${USAGE[v].replace(/^/gm, "  ")}\n${later ? `\nNot available in this release: it ${later}.\n` : ""}`);
    return;
  }
  const run = RUN[v];
  if (!run) return fail(2, `tsray ${v}: not available in this release; it ${later} (tsray ${v} --help)`);
  try {
    const code = await run(rest);
    if (code >= 0) process.exitCode = code;
  } catch (err) {
    if (err instanceof UsageError) return fail(2, err.message);
    fail(1, `tsray ${v}: ${(err as Error).message}`, rest.includes("--verbose") ? (err as Error).stack : undefined);
  }
}

function fail(code: number, line: string, stack?: string): void {
  process.stderr.write(`${line}\n${stack ? `${stack}\n` : ""}`);
  process.exitCode = code;
}
