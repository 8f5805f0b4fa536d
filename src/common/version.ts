/** The package's version, as its package.json says, read at run time (the handshake carries it). */
import { readFileSync } from "node:fs";

let version: string | undefined;

export function packageVersion(): string {
  // src/common/ and dist/common/ are both two levels below the package root.
  version ??= (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
  return version;
}
