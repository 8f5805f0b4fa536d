/**
 * The controller's proxies, one per node (Ray's ProxyStateManager). Where, by StartOptions'
 * proxyLocation:
 *
 * - "EveryNode" (the default): the head, and every other node while it has a replica (as Ray,
 *   whose load balancers may then send to any node); a node that loses its last replica has its
 *   proxy drained (DRAINING: no new connections, the running requests finish) and stopped;
 * - "HeadOnly": the head alone;
 * - "Disabled": none (handles only).
 *
 * Each proxy is a detached actor named SERVE_PROXY_ACTOR-<nodeId> (namespace "serve"), pinned to
 * its node (node affinity, not soft: a proxy elsewhere would answer on the wrong machine), and
 * binds the same http.port there (port 0: each picks a free one). It is STARTING until it listens,
 * then HEALTHY; one that cannot listen (a port taken: two nodes of one machine given one fixed
 * port) is UNHEALTHY with the bind error (status messages, the controller's log) and is tried
 * again every RETRY_MS; one whose actor dies (its watch() call fails) is started anew; one whose
 * node is gone is dropped. reconcile() runs in the controller's loop.
 */
import * as ray from "tsray";
import { SERVE_NAMESPACE } from "./controller-client.js";
import { causeOf } from "./errors.js";
import { ServeProxy, proxyModule, type StartOptions } from "./proxy.js";

export type ProxyStatus = "STARTING" | "HEALTHY" | "UNHEALTHY" | "DRAINING" | "DRAINED";
export type ProxyLocation = NonNullable<StartOptions["proxyLocation"]>;
type HttpOptions = NonNullable<StartOptions["http"]>;

/** What the controller's proxyDetails() tells of each proxy (tests, the dashboard). */
export interface ProxyDetails {
  nodeId: string;
  status: ProxyStatus;
  actorName: string;
  /** Where it listens, once HEALTHY. */
  url?: string;
  /** Why it is UNHEALTHY (the bind error), or what became of it. */
  message: string;
}

/** What is kept in the controller's state store, so that a restarted controller finds its proxies. */
export interface ProxyRecord {
  nodeId: string;
  actorName: string;
  url: string;
}

interface Proxy {
  readonly nodeId: string;
  readonly actorName: string;
  /** None when it could not even be created. */
  readonly actor: ray.ActorHandle<ServeProxy> | undefined;
  status: ProxyStatus;
  url?: string;
  message: string;
  /** When an UNHEALTHY one is tried again. */
  retryAt: number;
  /** Settles once it listens (with its URL) or could not. */
  readonly ready: Promise<string>;
}

const ProxyActor = ray.util.remoteExport(proxyModule, ServeProxy);
/** A proxy that could not listen is tried again after this long. */
const RETRY_MS = 5_000;
/** How often the cluster's nodes are looked up (which ones are alive, which is the head). */
const NODES_MS = 1_000;
/** A draining proxy stops after its requests finished, or after this long. */
const DRAIN_MS = 30_000;

export function proxyActorName(nodeId: string): string {
  return `SERVE_PROXY_ACTOR-${nodeId}`;
}

export class ProxyState {
  #location: ProxyLocation = "Disabled";
  #http: HttpOptions = {};
  readonly #proxies = new Map<string, Proxy>();
  #nodes: { head: string; alive: Set<string> } | undefined;
  #nodesAt = 0;
  #lookingUp: Promise<void> | undefined;

  /** `save` and `forget` keep the state store up to date. */
  constructor(
    readonly save: (record: ProxyRecord) => void,
    readonly forget: (nodeId: string) => void,
  ) {}

  get configured(): boolean {
    return this.#location !== "Disabled";
  }

  /** Where proxies go and how they listen: once, from start() (options change only after shutdown()). */
  configure(location: ProxyLocation, http: HttpOptions): void {
    this.#location = location;
    this.#http = http;
  }

  config(): { location: ProxyLocation; http: HttpOptions } {
    return { location: this.#location, http: this.#http };
  }

  /** A restarted controller takes over the proxies its predecessor left (their actors live on). */
  async adopt(records: ProxyRecord[]): Promise<void> {
    await Promise.all(records.map(async (r) => {
      let actor: ray.ActorHandle<ServeProxy>;
      try {
        actor = (await ray.getActor(r.actorName, { namespace: SERVE_NAMESPACE })) as ray.ActorHandle<ServeProxy>;
      } catch {
        this.forget(r.nodeId); // gone: reconcile() starts another
        return;
      }
      const proxy: Proxy = { nodeId: r.nodeId, actorName: r.actorName, actor, status: "HEALTHY", url: r.url, message: "", retryAt: 0, ready: Promise.resolve(r.url) };
      this.#proxies.set(r.nodeId, proxy);
      this.#watch(proxy);
    }));
  }

  /** The head's proxy URL once it listens; rejects with its bind error (start() then fails). */
  async headUrl(): Promise<string> {
    for (;;) {
      await this.#lookUpNodes();
      const head = this.#nodes!.head;
      if (!this.#proxies.has(head)) this.#start(head);
      const proxy = this.#proxies.get(head)!;
      try {
        return await proxy.ready;
      } catch (err) {
        if (this.#proxies.get(head) === proxy) throw err;
        // It died before it listened and is started anew: wait for that one.
      }
    }
  }

  status(): Record<string, ProxyStatus> {
    return Object.fromEntries([...this.#proxies.values()].map((p) => [p.nodeId, p.status]));
  }

  details(): ProxyDetails[] {
    return [...this.#proxies.values()].map((p) => ({
      nodeId: p.nodeId, status: p.status, actorName: p.actorName, message: p.message, ...(p.url !== undefined ? { url: p.url } : {}),
    }));
  }

  /**
   * Moves the proxies towards where they should be, given the nodes that have replicas now.
   * Synchronous (the controller's decisions are made between awaits); the node list it uses is
   * refreshed in the background every NODES_MS.
   */
  reconcile(replicaNodes: Set<string>): void {
    if (Date.now() - this.#nodesAt > NODES_MS) void this.#lookUpNodes().catch(() => {});
    const nodes = this.#nodes;
    if (nodes === undefined) return;
    const wanted = new Set<string>();
    if (this.#location !== "Disabled") wanted.add(nodes.head);
    if (this.#location === "EveryNode") for (const n of replicaNodes) if (nodes.alive.has(n)) wanted.add(n);
    for (const proxy of [...this.#proxies.values()]) {
      if (!nodes.alive.has(proxy.nodeId)) {
        // Its node is gone, and the proxy with it.
        this.#drop(proxy);
      } else if (!wanted.has(proxy.nodeId)) {
        this.#drain(proxy);
      } else if (proxy.status === "UNHEALTHY" && Date.now() >= proxy.retryAt) {
        this.#drop(proxy);
      }
    }
    for (const nodeId of wanted) if (!this.#proxies.has(nodeId)) this.#start(nodeId);
  }

  /** Stops every proxy (shutdown()): their ports are free once this resolves. */
  async stopAll(): Promise<void> {
    this.#location = "Disabled";
    const proxies = [...this.#proxies.values()];
    this.#proxies.clear();
    await Promise.all(proxies.map(async (p) => {
      p.status = "DRAINED";
      if (p.actor !== undefined) {
        await ray.get(p.actor.stop.remote()).catch(() => {});
        await ray.kill(p.actor, { noRestart: true }).catch(() => {});
      }
      this.forget(p.nodeId);
    }));
  }

  async #lookUpNodes(): Promise<void> {
    this.#lookingUp ??= (async () => {
      try {
        const all = await ray.nodes();
        const head = all.find((n) => n.isHead && n.alive)?.nodeId ?? this.#nodes?.head ?? ray.getRuntimeContext().nodeId;
        this.#nodes = { head, alive: new Set(all.filter((n) => n.alive).map((n) => n.nodeId)) };
        this.#nodesAt = Date.now();
      } finally {
        this.#lookingUp = undefined;
      }
    })();
    return this.#lookingUp;
  }

  #start(nodeId: string): void {
    const actorName = proxyActorName(nodeId);
    let actor: ray.ActorHandle<ServeProxy>;
    let ready: Promise<string>;
    try {
      actor = ProxyActor.options({
        name: actorName, namespace: SERVE_NAMESPACE, lifetime: "detached", numCpus: 0, maxConcurrency: 1000,
        schedulingStrategy: { type: "node_affinity", nodeId, soft: false },
      }).remote(this.#http);
      ready = ray.get(actor.ready.remote());
    } catch (err) {
      // E.g. the name of a proxy that just died is not free yet: tried again at the retry.
      const failed = Promise.reject(err as Error);
      failed.catch(() => {});
      this.#proxies.set(nodeId, {
        nodeId, actorName, actor: undefined, status: "UNHEALTHY", message: `the proxy on node ${nodeId} could not be created: ${(err as Error).message}`,
        retryAt: Date.now() + RETRY_MS, ready: failed,
      });
      return;
    }
    const proxy: Proxy = { nodeId, actorName, actor, status: "STARTING", message: "", retryAt: 0, ready };
    ready.catch(() => {});
    this.#proxies.set(nodeId, proxy);
    void ready.then(
      (url) => {
        if (this.#proxies.get(nodeId) !== proxy || proxy.status !== "STARTING") return;
        proxy.status = "HEALTHY";
        proxy.url = url;
        this.save({ nodeId, actorName, url });
        this.#watch(proxy);
      },
      (err) => {
        if (this.#proxies.get(nodeId) !== proxy || proxy.status !== "STARTING") return;
        const cause = causeOf(err) as Error;
        proxy.status = "UNHEALTHY";
        proxy.message = `the proxy on node ${nodeId} cannot listen on ${this.#where()}: ${cause?.message ?? String(err)}`;
        proxy.retryAt = Date.now() + RETRY_MS;
        console.error(`Serve: ${proxy.message} (tried again in ${RETRY_MS / 1000} s)`);
        // The actor is of no use without its server; another is started at the retry.
        void ray.kill(actor, { noRestart: true }).catch(() => {});
      },
    );
  }

  #where(): string {
    return `${this.#http.host ?? "127.0.0.1"}:${this.#http.port ?? 8000}`;
  }

  /** Learns of the proxy's death by its watch() call failing; reconcile() then starts another. */
  #watch(proxy: Proxy): void {
    void ray.get(proxy.actor!.watch.remote()).catch(() => {
      if (this.#proxies.get(proxy.nodeId) !== proxy || proxy.status === "DRAINING" || proxy.status === "DRAINED") return;
      console.error(`Serve: the proxy on node ${proxy.nodeId} died; starting another`);
      this.#proxies.delete(proxy.nodeId);
      this.forget(proxy.nodeId);
    });
  }

  /** No new connections; stopped and forgotten once its requests finished (or DRAIN_MS passed). */
  #drain(proxy: Proxy): void {
    if (proxy.status === "DRAINING" || proxy.status === "DRAINED") return;
    if (proxy.status !== "HEALTHY") return this.#drop(proxy);
    proxy.status = "DRAINING";
    proxy.message = `node ${proxy.nodeId} has no replica left`;
    void (async () => {
      await ray.get(proxy.actor!.drain.remote(DRAIN_MS)).catch(() => {});
      proxy.status = "DRAINED";
      await ray.kill(proxy.actor!, { noRestart: true }).catch(() => {});
      if (this.#proxies.get(proxy.nodeId) === proxy) this.#proxies.delete(proxy.nodeId);
      this.forget(proxy.nodeId);
    })();
  }

  /** Gone at once (its node died, or it is to be tried again). */
  #drop(proxy: Proxy): void {
    this.#proxies.delete(proxy.nodeId);
    this.forget(proxy.nodeId);
    if (proxy.actor !== undefined) void ray.kill(proxy.actor, { noRestart: true }).catch(() => {});
  }
}
