/**
 * The CLI's connection to a running cluster: requests answered by the head (see cluster-node.ts),
 * or, when the address is a dashboard URL (an embedded cluster's, say), by its state API over
 * HTTP (see dashboard/state-routes.ts).
 */
import { fromErrorInfo, type ErrorInfo } from "../common/errors.js";
import { packageVersion } from "../common/version.js";
import { parseAddress, resolveAddress } from "../node/remote-driver.js";
import { clusterToken, tlsFor } from "../node/session.js";
import { connect, type SocketChannel } from "../rpc/socket-channel.js";
import { UsageError } from "./args.js";

type Request = { t: "request"; reqId: number; method: string; args: unknown[] };
type Reply = { t: "reply"; reqId: number; ok: true; value: unknown } | { t: "reply"; reqId: number; ok: false; error: ErrorInfo };

type StateMethod = "status" | "list" | "timeline" | "memory" | "logs";

export interface StateClient {
  readonly address: string;
  request<T>(method: StateMethod, ...args: unknown[]): Promise<T>;
  close(): void;
}

export class ClusterClient implements StateClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  private constructor(private readonly channel: SocketChannel<Request, Reply>, readonly address: string) {
    channel.onMessage((m) => {
      const p = this.pending.get(m.reqId);
      this.pending.delete(m.reqId);
      if (m.ok) p?.resolve(m.value);
      else p?.reject(fromErrorInfo(m.error));
    });
    channel.onClose(() => {
      for (const p of this.pending.values()) p.reject(new Error(`the cluster at ${address} closed the connection`));
    });
  }

  /** `--address`, else TSRAY_ADDRESS, else the head on this machine; the token likewise. */
  static async connect(verb: string, flags: { address?: string; token?: string }): Promise<StateClient> {
    const given = flags.address ?? process.env.TSRAY_ADDRESS;
    if (given && /^https?:\/\//.test(given)) return new HttpStateClient(given.replace(/\/+$/, ""), flags.token ?? process.env.TSRAY_TOKEN);
    let address: string;
    try {
      address = resolveAddress(flags.address ?? "auto");
    } catch {
      throw new UsageError(`tsray ${verb}: no cluster runs on this machine; start one with \`tsray start --head\`, or pass --address`);
    }
    const { host, port } = parseAddress(address, `tsray ${verb}: --address`);
    const token = clusterToken(address, flags.token);
    if (token === undefined) throw new UsageError(`tsray ${verb}: no cluster token for ${address}: pass --token or set TSRAY_TOKEN`);
    const { channel } = await connect<Request, Reply>({ host, port, token, version: packageVersion(), role: "cli", timeoutMs: 15_000, tls: tlsFor(address) });
    return new ClusterClient(channel, address);
  }

  request<T>(method: string, ...args: unknown[]): Promise<T> {
    const reqId = this.nextId++;
    this.channel.send({ t: "request", reqId, method, args });
    return new Promise<T>((resolve, reject) => this.pending.set(reqId, { resolve: resolve as (v: unknown) => void, reject }));
  }

  close(): void {
    this.channel.close();
  }
}

/** The same requests, to a dashboard's state API. */
class HttpStateClient implements StateClient {
  constructor(readonly address: string, private readonly token: string | undefined) {}

  async request<T>(method: StateMethod, ...args: unknown[]): Promise<T> {
    const logs = (args[0] ?? {}) as { taskId?: string; actorId?: string; nodeId?: string; from?: number };
    const path = {
      logs: `/api/v0/logs?${logQuery(logs)}`,
      status: "/api/cluster_status",
      list: `/api/v0/${String(args[0]).replace(/-/g, "_")}?limit=${Number.MAX_SAFE_INTEGER}`,
      timeline: "/api/v0/tasks/timeline",
      memory: "/api/v0/memory",
    }[method];
    let res: Response;
    try {
      res = await fetch(this.address + path, { headers: this.token ? { authorization: `Bearer ${this.token}` } : {} });
    } catch (err) {
      throw new Error(`cannot reach the dashboard at ${this.address}: ${(err as { cause?: Error }).cause?.message ?? (err as Error).message}`);
    }
    const body = (await res.json()) as { error?: string; data?: { result: { result: unknown } } };
    if (!res.ok) throw new Error(`the dashboard at ${this.address} answered ${res.status}: ${body.error ?? ""}`);
    return (method === "list" ? body.data!.result.result : body) as T;
  }

  close(): void {}
}

function logQuery(q: { taskId?: string; actorId?: string; nodeId?: string; from?: number }): URLSearchParams {
  const params = new URLSearchParams();
  for (const [key, value] of [["task_id", q.taskId], ["actor_id", q.actorId], ["node_id", q.nodeId], ["from", q.from]] as const) {
    if (value !== undefined) params.set(key, String(value));
  }
  return params;
}
