// Module resolve hook (registered with module.register; runs in Node's loader thread, so it is
// plain JavaScript and imports nothing).
//
// 1. A generated module (a data: URL whose first line is "// tsray:scope=<url>", see
//    generated-module.ts) resolves its imports as if they were written in <url>: relative paths,
//    bare package names and everything else behave as in the module the function came from.
// 2. "tsray-resolve-from:<encoded scope URL>!<specifier>" resolves <specifier> from the scope
//    URL; resolve-specifier.ts uses it through import.meta.resolve, which has no parent argument.

const HEADER_PREFIX = "// tsray:scope=";
const DATA_URL_PREFIX = "data:text/javascript,";
const RESOLVE_PREFIX = "tsray-resolve-from:";

export async function resolve(specifier, context, nextResolve) {
  if (specifier.startsWith(RESOLVE_PREFIX)) {
    const rest = specifier.slice(RESOLVE_PREFIX.length);
    const bang = rest.indexOf("!");
    const parentURL = decodeURIComponent(rest.slice(0, bang));
    return nextResolve(rest.slice(bang + 1), { ...context, parentURL });
  }
  const scopeUrl = scopeOfGeneratedModule(context.parentURL);
  if (scopeUrl !== undefined) return nextResolve(specifier, { ...context, parentURL: scopeUrl });
  return nextResolve(specifier, context);
}

function scopeOfGeneratedModule(parentURL) {
  if (typeof parentURL !== "string" || !parentURL.startsWith(DATA_URL_PREFIX)) return undefined;
  const encoded = parentURL.slice(DATA_URL_PREFIX.length);
  const newline = encoded.indexOf("%0A");
  let firstLine;
  try {
    firstLine = decodeURIComponent(newline === -1 ? encoded : encoded.slice(0, newline));
  } catch {
    return undefined;
  }
  if (!firstLine.startsWith(HEADER_PREFIX)) return undefined;
  return firstLine.slice(HEADER_PREFIX.length).split(" ")[0] || undefined;
}
