/**
 * tsray's own folders. This file sits at <root>/src/core-worker/function-manager/ when run from
 * source and at <root>/dist/core-worker/function-manager/ when built, so the root is three
 * levels up either way.
 */
const packageRoot = new URL("../../../", import.meta.url);
const ownFolders = [new URL("src/", packageRoot).href, new URL("dist/", packageRoot).href];

/** True for a module URL inside tsray's src/ or dist/ folder. */
export function isOwnModuleUrl(url: string): boolean {
  return ownFolders.some((folder) => url.startsWith(folder));
}

/** True for specifiers that name tsray's public module from `scopeUrl`: "tsray", "tsray/...",
 * or a relative path into tsray's own src/ or dist/ (as examples inside this repo write). */
export function isTsraySpecifier(specifier: string, scopeUrl: string): boolean {
  if (specifier === "tsray" || specifier.startsWith("tsray/")) return true;
  if (!/^\.{1,2}\//.test(specifier)) return false;
  try {
    return isOwnModuleUrl(new URL(specifier, scopeUrl).href);
  } catch {
    return false;
  }
}
