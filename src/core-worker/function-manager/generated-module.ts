/**
 * The shape of the ES modules built for "source" descriptors, and how a worker loads them.
 *
 * The first line of every generated module names the module it was cut from:
 *   // tsray:scope=<scope URL>[ driver]
 * The resolve hook (resolve-hooks.mjs, which repeats this format because it runs in the loader
 * thread and imports nothing) reads it to resolve the module's imports as if they were written in
 * the scope module; callerModuleUrl() reads it to map a stack frame in the module back to its
 * scope; "driver" records that the scope is the driver script, which workers cannot learn from
 * their own process.argv.
 */
const HEADER_PREFIX = "// tsray:scope=";
const DATA_URL_PREFIX = "data:text/javascript,";

export interface ModuleHeader {
  scopeUrl: string;
  driver: boolean;
}

export function formatHeader(header: ModuleHeader): string {
  if (/\s/.test(header.scopeUrl)) throw new TypeError(`scope URL must not contain whitespace: ${header.scopeUrl}`);
  return `${HEADER_PREFIX}${header.scopeUrl}${header.driver ? " driver" : ""}\n`;
}

export function parseHeader(code: string): ModuleHeader | undefined {
  if (!code.startsWith(HEADER_PREFIX)) return undefined;
  const end = code.indexOf("\n");
  const [scopeUrl, flag] = code.slice(HEADER_PREFIX.length, end === -1 ? undefined : end).split(" ");
  return scopeUrl ? { scopeUrl, driver: flag === "driver" } : undefined;
}

export function dataUrlOf(code: string): string {
  return DATA_URL_PREFIX + encodeURIComponent(code);
}

/** Generated modules this thread has loaded, by data: URL (a stack frame's file name). */
const loaded = new Map<string, ModuleHeader>();

export function rememberLoadedModule(dataUrl: string, header: ModuleHeader): void {
  loaded.set(dataUrl, header);
}

/** The header of a generated module given its data: URL, whether or not this thread loaded it. */
export function headerOfDataUrl(url: string): ModuleHeader | undefined {
  const known = loaded.get(url);
  if (known || !url.startsWith(DATA_URL_PREFIX)) return known;
  // Only the first line is needed; an encoded newline ends it.
  const encoded = url.slice(DATA_URL_PREFIX.length);
  const newline = encoded.indexOf("%0A");
  try {
    return parseHeader(decodeURIComponent(newline === -1 ? encoded : encoded.slice(0, newline)));
  } catch {
    return undefined;
  }
}
