// The rows and answers of the head's HTTP API, as the pages read them (see src/node/state-service.ts).

export interface ListPage<T> {
  total: number;
  num_filtered: number;
  num_after_truncation: number;
  result: T[];
}

export type Resources = Record<string, number>;

export interface NodeRow {
  node_id: string;
  node_ip: string;
  is_head_node: boolean;
  state: "ALIVE" | "DEAD";
  resources_total: Resources;
  resources_available: Resources;
  num_workers: number;
  object_store_used_bytes: number | null;
  object_store_capacity_bytes: number | null;
  /** The node's process (main thread and worker threads), percent of one core since the last look. */
  cpu_percent: number | null;
  rss_bytes: number | null;
  /** The machine's memory. */
  memory_used_bytes: number | null;
  memory_total_bytes: number | null;
  /** Each worker: a thread's CPU is its event loop's busy time, and it has no memory of its own. */
  workers: { worker_id: string; pid: number | null; cpu_percent: number; rss_bytes: number | null }[];
}

export interface JobRow {
  job_id: string;
  state: string;
  entrypoint: string;
  namespace: string;
  start_time: number;
  end_time?: number;
}

/** A job submitted with `tsray job submit` (the job API's own record). */
export interface SubmittedJob {
  submission_id: string;
  entrypoint: string;
  status: string;
  message: string;
  start_time: number;
  end_time?: number;
}

export interface ActorRow {
  actor_id: string;
  class_name: string;
  state: string;
  name: string;
  namespace: string;
  detached: boolean;
  node_id: string;
  worker_id: string;
  pid: number | null;
  num_restarts: number;
  death_cause: string;
}

export interface TaskRow {
  task_id: string;
  name: string;
  state: string;
  type: string;
  job_id: string;
  actor_id: string;
  node_id: string;
  worker_id: string;
  attempt: number;
  duration_ms: number | null;
  error_type: string;
  error_message: string;
  error_stack: string;
  submitted_at: number;
  started_at: number | null;
  ended_at: number | null;
}

export interface ObjectRow {
  object_id: string;
  state: string;
  size_bytes: number;
  owner: string;
  reference_kinds: string[];
  node_id: string;
  readers: number;
}

export interface ClusterStatus {
  total: Resources;
  available: Resources;
  pendingDemand: { resources: Resources; count: number }[];
}

export interface TaskSummary {
  time: number;
  ended: { FINISHED: number; FAILED: number };
  pending: { PENDING_ARGS_AVAIL: number; PENDING_NODE_ASSIGNMENT: number; RUNNING: number };
  dropped: number;
}

export interface ClusterInfo {
  address: string;
  head_node_id: string;
  version: string;
  started_at: number;
}

/** `/api/serve/applications`: tsray Serve's status (serve.status()), and whether Serve runs at all. */
export interface ServeReplica {
  replicaId: string;
  state: string;
  nodeId: string;
  actorName: string;
  pid: number;
  version: string;
}
export interface ServeDeployment {
  status: string;
  message: string;
  targetNumReplicas: number;
  replicas: ServeReplica[];
}
export interface ServeApplication {
  status: string;
  message: string;
  routePrefix: string | null;
  deployments: Record<string, ServeDeployment>;
}
export interface ServeStatus {
  running: boolean;
  proxies: Record<string, string>;
  applications: Record<string, ServeApplication>;
}
