/**
 * Objects between nodes. A worker node keeps the large bodies of what its workers make and
 * serves them to any node of the cluster that asks (after the cluster's handshake, role "peer");
 * a node that needs them pulls them from there, and they land straight in its own arena as they
 * come off the socket (see landing.ts), where every worker of that node reads them zero-copy.
 * Served bodies leave as views of the server's arena, pinned until written. Pulls share a budget
 * of bytes in flight, so a node that needs many objects at once takes them a few at a time.
 */
import { ObjectLostError } from "../common/errors.js";
import { connect, listen, type SocketChannel, type SocketServer, type TlsOptions } from "../rpc/socket-channel.js";
import type { ArenaSlice, AwayBodies, SerializedValue } from "../serialization/serialized-value.js";
import { slicesOf, unpinAll, viewsOf } from "../serialization/wire-value.js";
import type { Landing } from "./landing.js";
import type { ObjectValue } from "./object-table.js";
import type { SharedArena } from "./shared-arena.js";

type ToPeer = { t: "pull"; reqId: number; id: string };
/** `bodies` absent: the server has no such object (any more). */
type FromPeer = { t: "pulled"; reqId: number; bodies?: Uint8Array[] };

/** What both ends prove in their handshake. */
export interface PeerSettings {
  token: string;
  version: string;
  tls?: TlsOptions;
  log: (line: string) => void;
}

/** A worker node's server of the bodies it keeps. */
export class ObjectServer {
  private constructor(private readonly server: SocketServer) {}

  /** `lookup`: the value of an object kept here (its bodies as slices, or bodies read back from disk). */
  static async start(o: PeerSettings & { host: string; arena: SharedArena; lookup(id: string): ObjectValue | undefined }): Promise<ObjectServer> {
    const server = await listen<FromPeer, ToPeer>({
      host: o.host, port: 0, token: o.token, version: o.version, tls: o.tls, log: o.log,
      onPeer: (channel, peer) => {
        if (peer.role !== "peer") {
          o.log(`refused a ${peer.role} at ${channel.remote} on the object port`);
          return channel.close();
        }
        channel.onMessage((m) => {
          if (m.t !== "pull") return;
          const v = o.lookup(m.id);
          if (!v?.ok || !v.value.slices) return channel.send({ t: "pulled", reqId: m.reqId, bodies: v?.ok ? v.value.bodies : undefined });
          const pinned: number[] = [];
          channel.send({ t: "pulled", reqId: m.reqId, bodies: viewsOf(v.value, o.arena, pinned).bodies });
          channel.onSent(() => unpinAll(o.arena, pinned));
        });
      },
    });
    server.unref();
    return new ObjectServer(server);
  }

  get port(): number {
    return this.server.port;
  }

  close(): Promise<void> {
    return this.server.close();
  }
}

interface Pending {
  resolve(slices: ArenaSlice[] | undefined): void;
  reject(err: Error): void;
}

/** One connection per node pulled from, and what it has been asked. */
interface PeerLink {
  channel: Promise<SocketChannel<ToPeer, FromPeer>>;
  pending: Map<number, Pending>;
}

/** A node's pulls from other nodes. */
export class ObjectPulls {
  private readonly peers = new Map<string, PeerLink>();
  private nextReq = 1;
  private inFlight = 0;
  private readonly queued: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly o: PeerSettings & {
      landing: Landing;
      /** Room for a body that did not land as it came (throws ObjectStoreFullError without it). */
      allocate(size: number): number;
      /** Bytes of pulls in flight at most (one larger pull still goes alone). */
      budgetBytes: number;
    },
  ) {}

  /**
   * The value with its bodies pulled from where they are, as slices of this node's arena (owned
   * by the caller). Rejects with ObjectLostError when that node is gone or has no such object,
   * and with ObjectStoreFullError when this node has no room for it.
   */
  async pull(value: SerializedValue): Promise<SerializedValue> {
    const away = value.away!;
    const size = away.sizes.reduce((a, b) => a + b, 0);
    await this.turn(size);
    try {
      const slices = await this.request(away);
      if (!slices) throw new ObjectLostError(`object ${away.id} is no longer on node ${away.node}`);
      return { ...value, slices };
    } finally {
      this.inFlight -= size;
      while (this.queued.length && this.fits(0)) this.queued.shift()!();
    }
  }

  close(): void {
    this.closed = true;
    for (const p of this.peers.values()) void p.channel.then((c) => c.close(), () => {});
    this.peers.clear();
  }

  /** Waits until `size` more bytes fit the budget (a pull alone always fits). */
  private turn(size: number): Promise<void> {
    if (this.fits(size) && !this.queued.length) {
      this.inFlight += size;
      return Promise.resolve();
    }
    return new Promise((resolve) =>
      this.queued.push(() => {
        this.inFlight += size;
        resolve();
      }),
    );
  }

  private fits(size: number): boolean {
    return this.inFlight === 0 || this.inFlight + size <= this.o.budgetBytes;
  }

  private request(away: AwayBodies): Promise<ArenaSlice[] | undefined> {
    if (this.closed) return Promise.reject(new ObjectLostError(`this node is stopping: object ${away.id} was not pulled`));
    if (away.host === undefined || away.port === undefined) return Promise.reject(new ObjectLostError(`object ${away.id} is on node ${away.node}, whose address is unknown`));
    const peer = this.peer(away.node, away.host, away.port);
    const reqId = this.nextReq++;
    return new Promise((resolve, reject) => {
      peer.pending.set(reqId, { resolve, reject });
      peer.channel.then((c) => c.send({ t: "pull", reqId, id: away.id }), () => {});
    });
  }

  private peer(node: string, host: string, port: number): PeerLink {
    const key = `${node}@${host}:${port}`;
    let peer = this.peers.get(key);
    if (peer) return peer;
    const pending = new Map<number, Pending>();
    const lost = (why: string) => {
      if (this.peers.get(key) === peer) this.peers.delete(key);
      for (const p of pending.values()) p.reject(new ObjectLostError(`node ${node} at ${host}:${port} ${why}`));
      pending.clear();
    };
    const channel = connect<ToPeer, FromPeer>({ host, port, token: this.o.token, version: this.o.version, tls: this.o.tls, role: "peer", log: this.o.log }).then((r) => {
      const c = r.channel;
      c.landing = this.o.landing;
      c.onMessage((m) => {
        const p = pending.get(m.reqId);
        pending.delete(m.reqId);
        if (!p) return;
        // Taken now: what landed and no value took is freed once this batch is handled.
        try {
          p.resolve(m.bodies && slicesOf({ bodies: m.bodies }, this.o.landing.arena, this.o.allocate, this.o.landing).slices);
        } catch (err) {
          p.reject(err as Error);
        }
      });
      c.onClose(() => lost("went away during a pull"));
      return c;
    });
    channel.catch((err: Error) => lost(`cannot be reached (${err.message})`));
    peer = { channel, pending };
    this.peers.set(key, peer);
    return peer;
  }
}
