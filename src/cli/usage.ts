/** The verbs of the tsray command and their usage (shared/spec/CLI.md). */
export const USAGE = {
  start:
    "tsray start --head [--port 6380] [--node-ip-address IP] [--num-cpus N] [--num-gpus N] [--resources JSON]\n" +
    "                   [--object-store-memory BYTES] [--dashboard-host HOST] [--dashboard-port PORT]\n" +
    "                   [--include-dashboard true|false] [--gcs-storage redis://HOST:PORT] [--token TOKEN] [--block]\n" +
    "                   [--tls-cert FILE --tls-key FILE [--tls-ca FILE]]\n" +
    "tsray start --address HOST:PORT [--token TOKEN] [--node-ip-address IP] [--num-cpus N] [--num-gpus N]\n" +
    "                   [--resources JSON] [--object-store-memory BYTES] [--block]",
  stop: "tsray stop [--force]",
  status: "tsray status [--address HOST:PORT] [--token TOKEN]   (TLS: TSRAY_TLS_CA=FILE)",
  list: "tsray list nodes|jobs|actors|tasks|objects|placement-groups [--filter KEY=VALUE]... [--limit N] [--format table|json] [--address ADDR]",
  logs: "tsray logs (--actor-id ID | --task-id ID | --node-id ID) [--follow] [--address ADDR]",
  timeline: "tsray timeline [--output FILE] [--address ADDR]",
  memory: "tsray memory [--format table|json] [--address ADDR]",
  job:
    "tsray job submit [--address URL] [--working-dir DIR] [--runtime-env-json JSON] [--submission-id ID] [--no-wait] -- COMMAND ARGS...\n" +
    "tsray job status|logs|stop JOB_ID [--address URL] [--follow]\n" +
    "tsray job list [--address URL]",
  serve:
    "tsray serve run MODULE:EXPORT|CONFIG_FILE [--name N] [--route-prefix P] [--host 127.0.0.1] [--port 8000]\n" +
    "                [--working-dir DIR] [--address HOST:PORT] [--non-blocking] [KEY=VALUE]...\n" +
    "tsray serve deploy CONFIG_FILE [--address HOST:PORT]\n" +
    "tsray serve status [--format yaml|json] [--address HOST:PORT]\n" +
    "tsray serve config [--name APP] [--address HOST:PORT]\n" +
    "tsray serve shutdown [--yes] [--address HOST:PORT]\n" +
    "tsray serve build MODULE:EXPORT [--output FILE]",
} as const;

export type Verb = keyof typeof USAGE;

/** Verbs that come with later work (none left: every verb of CLI.md is here). */
export const LATER: Partial<Record<Verb, string>> = {};
