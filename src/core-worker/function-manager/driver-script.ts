import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * Knows which module is the driver script: the program `node` was started with. Its functions are
 * always shipped by source, because importing it in a worker would run the whole driver again.
 *
 * In the driver that is process.argv[1] (under tsx, the .ts file). A worker's argv names its own
 * bootstrap, so workers learn the driver's URL from the generated modules they load (their header
 * carries a "driver" flag); that keeps describing inside a worker identical to the driver.
 */
const knownDriverUrls = new Set<string>();
let argvDriverPath: string | null | undefined;

export function markDriverScript(url: string): void {
  knownDriverUrls.add(url);
}

export function isDriverScript(url: string): boolean {
  if (knownDriverUrls.has(url)) return true;
  if (!url.startsWith("file:")) return false;
  const driver = driverPath();
  return driver !== null && realPath(fileURLToPath(url)) === driver;
}

/** The driver script's path (process.argv[1], resolved), or null when there is none (REPL, `node -e`). */
export function driverPath(): string | null {
  if (argvDriverPath === undefined) {
    const script = process.argv[1];
    argvDriverPath = script ? realPath(script) : null;
  }
  return argvDriverPath;
}

function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path; // e.g. `node --import tsx ./main` started without the extension
  }
}
