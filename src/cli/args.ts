/**
 * Flags of one verb, parsed strictly: an unknown flag, a missing value or a value of the wrong
 * kind is a UsageError naming the flag. `--name value` and `--name=value` both work; what comes
 * after `--` is left as it is.
 */
export class UsageError extends Error {}

export type FlagKind = "string" | "number" | "boolean" | "list";
export type FlagSpec = Record<string, FlagKind>;
export type Flags<S extends FlagSpec> = {
  [K in keyof S]?: S[K] extends "number" ? number : S[K] extends "boolean" ? boolean : S[K] extends "list" ? string[] : string;
};

export function parseFlags<S extends FlagSpec>(verb: string, argv: string[], spec: S): { flags: Flags<S>; positionals: string[]; rest: string[] } {
  const flags: Record<string, unknown> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") return { flags: flags as Flags<S>, positionals, rest: argv.slice(i + 1) };
    if (!arg.startsWith("--")) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const kind = spec[name];
    if (!kind) throw new UsageError(`tsray ${verb}: unknown option --${name} (see tsray ${verb} --help)`);
    let value: string | undefined = eq < 0 ? undefined : arg.slice(eq + 1);
    if (kind === "boolean") {
      // `--block`, or `--include-dashboard false`.
      if (value === undefined && (argv[i + 1] === "true" || argv[i + 1] === "false")) value = argv[++i];
      if (value !== undefined && value !== "true" && value !== "false") throw new UsageError(`tsray ${verb}: --${name} is true or false, got '${value}'`);
      flags[name] = value !== "false";
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length || argv[i + 1].startsWith("--")) throw new UsageError(`tsray ${verb}: --${name} needs a value`);
      value = argv[++i];
    }
    if (kind === "number") {
      const n = Number(value);
      if (value.trim() === "" || !Number.isFinite(n) || n < 0) throw new UsageError(`tsray ${verb}: --${name} must be a non-negative number, got '${value}'`);
      flags[name] = n;
    } else if (kind === "list") {
      const list = (flags[name] as string[] | undefined) ?? [];
      list.push(value);
      flags[name] = list;
    } else flags[name] = value;
  }
  return { flags: flags as Flags<S>, positionals, rest: [] };
}
