#!/usr/bin/env node
// The tsray command. Its verbs (start, stop, status, list, job, timeline, memory) arrive with
// the multi-node issue; until then it says so instead of pretending.
import { readFileSync } from "node:fs";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const [verb] = process.argv.slice(2);
if (!verb || verb === "--help" || verb === "-h") {
  console.log(
    `tsray ${pkg.version}\n\nUsage: tsray <start|stop|status|list|logs|timeline|memory|job> [options]\n\n` +
      "This release runs clusters embedded in your program: call `await ray.init()`.\n" +
      "The standalone cluster commands are not available yet.",
  );
  process.exit(0);
}
if (verb === "--version" || verb === "-V") {
  console.log(pkg.version);
  process.exit(0);
}
console.error(`tsray: '${verb}' is not available in this release; use \`await ray.init()\` for an embedded cluster (tsray --help)`);
process.exit(2);
