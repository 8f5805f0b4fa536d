import { isAbsolute } from "node:path";
import { pathToFileURL } from "node:url";
import { headerOfDataUrl } from "./generated-module.js";
import { isOwnModuleUrl } from "./own-package.js";

/**
 * Where the user's call into tsray came from: the URL of the first stack frame outside tsray's
 * own src/ or dist/ folder and outside Node's internals. A frame in one of our generated data:
 * modules (a shipped function calling ray.remote inside a worker) maps back to the module that
 * function was cut from, so describing there gives the same result as in the driver.
 */
export function callerModuleUrl(): string {
  for (const site of captureCallSites(callerModuleUrl)) {
    const url = moduleUrlOf(site);
    if (url !== undefined && !isOwnModuleUrl(url)) return url;
  }
  // No module frame at all (REPL, `node -e`): fall back to the driver script, else the cwd.
  const script = process.argv[1];
  return pathToFileURL(script ?? `${process.cwd()}/`).href;
}

function moduleUrlOf(site: NodeJS.CallSite): string | undefined {
  const file = site.getFileName();
  if (!file || file.startsWith("node:")) return undefined;
  if (file.startsWith("data:")) return headerOfDataUrl(file)?.scopeUrl;
  if (file.startsWith("file:")) return stripQuery(file);
  if (isAbsolute(file)) return pathToFileURL(file).href; // CommonJS frames carry plain paths
  return undefined; // "evalmachine.<anonymous>", "[eval]" and the like
}

/** Loaders may tag module URLs with a query (tsx namespaces); the module is the file itself. */
function stripQuery(url: string): string {
  const cut = url.search(/[?#]/);
  return cut === -1 ? url : url.slice(0, cut);
}

/** V8's structured stack, without the frames of `above` and its callees. */
function captureCallSites(above: Function): NodeJS.CallSite[] {
  const savedPrepare = Error.prepareStackTrace;
  const savedLimit = Error.stackTraceLimit;
  const holder: { stack?: NodeJS.CallSite[] } = {};
  try {
    // The user frame sits below tsray's own frames; allow for a deep runtime call chain.
    Error.stackTraceLimit = 64;
    Error.prepareStackTrace = (_error, sites) => sites;
    Error.captureStackTrace(holder, above);
    return holder.stack ?? [];
  } finally {
    Error.prepareStackTrace = savedPrepare;
    Error.stackTraceLimit = savedLimit;
  }
}
