/**
 * A function or class described as plain data, so it can cross a MessagePort or a socket and be
 * rebuilt in a worker (JavaScript cannot serialize closures).
 *
 * - "source": `code` is a complete ES module whose default export is the callable. It carries the
 *   callable's source plus the imports and top-level declarations of `scopeUrl` it uses, and its
 *   relative and bare imports resolve as if written in `scopeUrl`.
 * - "module-export": the worker imports `moduleUrl` and takes the export `exportName`.
 *
 * `id` is a hash of the content, so the same callable gets the same id in every process.
 */
export type FunctionDescriptor =
  | {
      kind: "source"; id: string; name: string; scopeUrl: string; code: string;
      /** Top-level bindings of the scope it uses whose value cannot travel (see source-descriptor.ts). */
      withheld?: string[];
      /** Names it uses that the scope does not declare and that are not globals: variables of functions around it. */
      outer?: string[];
    }
  | { kind: "module-export"; id: string; name: string; moduleUrl: string; exportName: string };

/** Property under which the runtime's RemoteFunction / ActorClass wrappers keep the raw callable. */
export const CALLABLE_SYMBOL = Symbol.for("tsray.callable");

/** Checks a descriptor that arrived from another thread or process before using it. */
export function isFunctionDescriptor(value: unknown): value is FunctionDescriptor {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  const common = typeof v.id === "string" && typeof v.name === "string";
  if (v.kind === "source") return common && typeof v.scopeUrl === "string" && typeof v.code === "string";
  if (v.kind === "module-export") {
    return common && typeof v.moduleUrl === "string" && typeof v.exportName === "string";
  }
  return false;
}
