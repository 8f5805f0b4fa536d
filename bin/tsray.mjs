#!/usr/bin/env node
// The tsray command. Its verbs (shared/spec/CLI.md) arrive with the multi-node issue; until then
// each says so, with its usage under --help, and anything else is an unknown command.
import { readFileSync } from "node:fs";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));

const VERBS = {
  start:
    "tsray start --head [--port 6380] [--node-ip-address IP] [--num-cpus N] [--num-gpus N] [--resources JSON]\n" +
    "                   [--object-store-memory BYTES] [--dashboard-host HOST] [--dashboard-port PORT]\n" +
    "                   [--include-dashboard true|false] [--gcs-storage redis://HOST:PORT] [--token TOKEN] [--block]\n" +
    "tsray start --address HOST:PORT [--token TOKEN] [--node-ip-address IP] [--num-cpus N] [--num-gpus N]\n" +
    "                   [--resources JSON] [--object-store-memory BYTES] [--block]",
  stop: "tsray stop [--force]",
  status: "tsray status [--address HOST:PORT]",
  list: "tsray list nodes|jobs|actors|tasks|objects|placement-groups [--filter KEY=VALUE]... [--limit N] [--format table|json] [--address ADDR]",
  logs: "tsray logs (--actor-id ID | --task-id ID | --node-id ID) [--follow] [--address ADDR]",
  timeline: "tsray timeline [--output FILE] [--address ADDR]",
  memory: "tsray memory [--address ADDR]",
  job:
    "tsray job submit [--address URL] [--working-dir DIR] [--runtime-env-json JSON] [--no-wait] -- COMMAND ARGS...\n" +
    "tsray job status|logs|stop JOB_ID [--address URL] [--follow]\n" +
    "tsray job list [--address URL]",
  serve:
    "tsray serve run MODULE:EXPORT|CONFIG_FILE [--name N] [--route-prefix P] [--host HOST] [--port PORT] [--non-blocking]\n" +
    "tsray serve deploy|status|config|shutdown|build ...",
};
const EMBEDDED =
  "This release runs clusters embedded in your program (`await ray.init()`); standalone nodes and this command's verbs come later.";

const args = process.argv.slice(2);
const [verb] = args;
const wantsHelp = args.includes("--help") || args.includes("-h");

if (!verb || verb === "--help" || verb === "-h") {
  console.log(`tsray ${pkg.version}\n\nUsage: tsray <${Object.keys(VERBS).join("|")}> [options]   (tsray <command> --help)\n\n${EMBEDDED}`);
  process.exit(0);
}
if (verb === "--version" || verb === "-V") {
  console.log(pkg.version);
  process.exit(0);
}
if (!Object.hasOwn(VERBS, verb)) {
  console.error(`tsray: unknown command '${verb}' (commands: ${Object.keys(VERBS).join(", ")}; see tsray --help)`);
  process.exit(2);
}
if (wantsHelp) {
  console.log(`Usage:\n${VERBS[verb].replace(/^/gm, "  ")}\n\nNot available in this release. ${EMBEDDED}`);
  process.exit(0);
}
if (verb === "stop") process.exit(0); // no node of this user can be running: nothing to stop
console.error(`tsray ${verb}: not available in this release; use \`await ray.init()\` for a cluster embedded in your program (tsray ${verb} --help)`);
process.exit(2);
