/**
 * The socket carrier of the protocol: the same typed messages as between threads (see
 * protocol.ts, wire.ts), batched the same way (BatchingChannel), over TCP, optionally TLS.
 * Every connection first runs the handshake (handshake.ts): version and cluster token. Until it
 * has, the peer may send only small control frames; a wrong token, another version, a frame
 * over the limit, bytes that are not frames, or silence past the handshake timeout drop that
 * connection alone, with a log line on the listening side.
 *
 * Messages travel as V8's serialization of their wire form (structured clone, as over a
 * MessagePort), large byte arrays ahead of them in chunks (batch-codec.ts). Shared memory does
 * not: a SharedArrayBuffer in a message fails to serialize here, since an arena offset means
 * nothing on another node (values cross as bytes: see serialization/wire-value.ts).
 */
import net from "node:net";
import tls from "node:tls";
import { BatchDecoder, encodeBatch } from "./batch-codec.js";
import { BatchingChannel } from "./channel.js";
import { FrameKind, FrameReader, MAX_FRAME_BYTES, writeFrame } from "./frames.js";
import { answerHello, checkAnswer, checkWelcome, HandshakeError, newChallenge, serverHello, type Greeting, type Peer } from "./handshake.js";

const NOTHING = Buffer.alloc(0);
import type { Landing } from "../object-store/landing.js";
import { decode, encode, type Message } from "./wire.js";

/** Control frames are small: a peer that has not proven itself gets no more than this per frame. */
const HANDSHAKE_FRAME_BYTES = 16 * 1024;
export const HANDSHAKE_TIMEOUT_MS = 10_000;
/** How long `connect` tries, connection and handshake together, before it gives up. */
export const CONNECT_TIMEOUT_MS = 15_000;

/** PEM contents (not paths). */
export interface TlsOptions {
  cert?: string | Buffer;
  key?: string | Buffer;
  /** The authority that signed the other side's certificate (a private CA, or a self-signed cert). */
  ca?: string | Buffer;
}

/** Where a listener is: TCP on `host:port` (port 0 picks a free one), or a Unix socket at `path`. */
export type Endpoint = { host: string; port: number; path?: undefined } | { path: string; host?: undefined; port?: undefined };

const describeEndpoint = (e: Endpoint) => (e.path !== undefined ? e.path : `${e.host}:${e.port}`);

export type ListenOptions<Out, In> = Endpoint & ListenSettings<Out, In>;

export interface ListenSettings<Out, In> extends Greeting {
  tls?: TlsOptions;
  /** What this side says of itself to every peer. */
  info?: Record<string, unknown>;
  handshakeTimeoutMs?: number;
  /** Where refused and dropped connections are reported. */
  log?: (line: string) => void;
  /** A peer that completed the handshake. */
  onPeer(channel: SocketChannel<Out, In>, peer: Peer): void;
}

export type ConnectOptions = Endpoint & ConnectSettings;

export interface ConnectSettings extends Greeting {
  /** What this side connects as. */
  role: string;
  info?: Record<string, unknown>;
  /** TLS to a listener that uses it: `ca` verifies the listener's certificate. */
  tls?: TlsOptions;
  timeoutMs?: number;
  /** Where a connection dropped for breaking the protocol is reported. */
  log?: (line: string) => void;
}

/** Control frames of a connection still in its handshake, in order. */
class ControlFrames {
  private readonly frames: unknown[] = [];
  private waiter?: { resolve(v: unknown): void; reject(e: Error): void };
  private failure?: Error;
  /** Frames of other kinds that came after the last control step (the peer's first batches). */
  readonly early: [number, Buffer][] = [];
  /** Takes the handshake's listeners off the socket (the channel adds its own). */
  detach: () => void = () => {};

  /** `strict`: any other kind of frame is an error (a server waits for the client's answer). */
  constructor(readonly socket: net.Socket, readonly reader: FrameReader, private readonly strict: boolean) {
    reader.onFrame = (kind, payload) => {
      if (kind !== FrameKind.control) {
        if (this.strict) return this.fail(new HandshakeError("sent messages before the handshake"));
        this.early.push([kind, payload]);
        return;
      }
      let value: unknown;
      try {
        value = JSON.parse(payload.toString("utf8"));
      } catch {
        return this.fail(new HandshakeError("sent a handshake that is not JSON"));
      }
      if (this.waiter) {
        this.waiter.resolve(value);
        this.waiter = undefined;
      } else this.frames.push(value);
    };
  }

  send(value: object): void {
    writeFrame(this.socket, FrameKind.control, Buffer.from(JSON.stringify(value)));
  }

  next(): Promise<unknown> {
    if (this.frames.length) return Promise.resolve(this.frames.shift());
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  fail(err: Error): void {
    this.failure ??= err;
    this.waiter?.reject(err);
    this.waiter = undefined;
  }
}

/** Reads a socket into a ControlFrames; any failure of the stream fails the handshake. */
function handshaking(socket: net.Socket, strict: boolean): ControlFrames {
  const reader = new FrameReader(() => {}, HANDSHAKE_FRAME_BYTES);
  const steps = new ControlFrames(socket, reader, strict);
  const onData = (chunk: Buffer) => {
    try {
      reader.push(chunk);
    } catch (err) {
      steps.fail(new HandshakeError((err as Error).message));
    }
  };
  const onError = (err: Error) => steps.fail(err);
  const onClose = () => steps.fail(new HandshakeError("the connection closed during the handshake"));
  socket.on("data", onData);
  socket.on("error", onError);
  socket.on("close", onClose);
  steps.detach = () => {
    socket.off("data", onData);
    socket.off("error", onError);
    socket.off("close", onClose);
  };
  return steps;
}

/** A connection whose handshake succeeded, as a Channel. */
export class SocketChannel<Out, In> extends BatchingChannel<Out, In> {
  private readonly closeListeners: ((err?: Error) => void)[] = [];
  private ended = false;
  /** Frames that came before anyone listened (a client hears the server right after the welcome). */
  private unheard: [number, Buffer | Buffer[]][] | undefined = [];
  private readonly decoder = new BatchDecoder((size) => this.landing?.place(size, this));
  /** Where the bodies of values land as they arrive, if this node has an arena (see Landing). */
  landing?: Landing;
  /** Told once the batch being gathered has been written (see onSent). */
  private sentListeners: (() => void)[] = [];
  private readonly reader: FrameReader;

  constructor(
    private readonly socket: net.Socket,
    steps: ControlFrames,
    /** The other end, as HOST:PORT, for messages. */
    readonly remote: string,
    private readonly log: (line: string) => void,
  ) {
    super();
    const reader = (this.reader = steps.reader);
    reader.limit = MAX_FRAME_BYTES;
    reader.onFrame = (kind, payload) => this.receive(kind, payload);
    reader.onBodyParts = (parts) => this.receive(FrameKind.body, parts);
    this.unheard!.push(...steps.early);
    // Only the handshake's: a server's own listeners (its count of open sockets) stay.
    steps.detach();
    socket.on("data", (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (err) {
        this.drop((err as Error).message);
      }
    });
    socket.on("error", (err) => this.finish(err));
    socket.on("close", () => this.finish());
  }

  override onMessage(handler: (msg: In) => void): void {
    super.onMessage(handler);
    const unheard = this.unheard;
    if (!unheard) return;
    // After the caller's own job (a handler set in a constructor may need the rest of it), and
    // before any later frame (those come with I/O, after microtasks).
    queueMicrotask(() => {
      this.unheard = undefined;
      for (const [kind, payload] of unheard) this.receive(kind, payload);
      if (!this.ended) this.bodiesInPlace();
    });
  }

  /**
   * From now on (no frame waits to be heard: bodies are decoded in order), the bodies' bytes go
   * straight where the decoder puts them as they come, copied once; on a connection that reads
   * into them itself (see connect), not copied at all.
   */
  private bodiesInPlace(): void {
    const reader = this.reader;
    reader.onBodyStart = (head, bytes) => this.decoder.chunkTarget(head, bytes);
    reader.onBodyEnd = () => this.decoder.chunkWritten();
  }

  /** Lets the process exit while the connection is open (a driver's waits keep it alive themselves). */
  unref(): void {
    this.socket.unref();
  }

  /** Called once the connection is gone, by either side or by a failure. */
  onClose(listener: (err?: Error) => void): void {
    this.closeListeners.push(listener);
  }

  onSent(listener: () => void): void {
    if (this.ended || this.socket.destroyed) return listener();
    // With nothing batched, what was sent is in the socket's queue: a write after it says when it left.
    if (this.batched() === 0) this.socket.write(NOTHING, () => listener());
    else this.sentListeners.push(listener);
  }

  protected post(batch: Out[]): void {
    const sent = this.sentListeners.splice(0);
    if (this.socket.destroyed) return sent.forEach((l) => l());
    const wire = new Array(batch.length);
    for (let i = 0; i < batch.length; i++) wire[i] = encode(batch[i] as Message);
    const { batch: bytes, bodyFrames } = encodeBatch(wire);
    for (const parts of bodyFrames) writeFrame(this.socket, FrameKind.body, ...parts);
    writeFrame(this.socket, FrameKind.batch, bytes);
    if (sent.length) this.socket.write(NOTHING, () => sent.forEach((l) => l()));
  }

  override close(): void {
    if (this.closed) return;
    super.close();
    this.socket.end();
    this.finish();
  }

  private receive(kind: number, payload: Buffer | Buffer[]): void {
    if (this.ended) return;
    if (this.unheard) {
      this.unheard.push([kind, payload]);
      return;
    }
    if (kind !== FrameKind.batch && kind !== FrameKind.body) return this.drop(`sent a frame of unknown kind ${kind}`);
    let messages: In[];
    try {
      if (kind === FrameKind.body) return this.decoder.body(payload);
      messages = this.decoder.batch(payload as Buffer).map((w) => decode(w as Message) as In);
    } catch (err) {
      return this.drop(`sent a ${kind === FrameKind.body ? "body" : "batch"} that cannot be read (${(err as Error).message})`);
    }
    try {
      this.deliver(messages);
    } finally {
      this.landing?.sweep(this);
    }
  }

  /** The peer broke the protocol: its connection goes, nothing else does. */
  private drop(why: string): void {
    this.log(`dropped the connection of ${this.remote}: ${why}`);
    this.socket.destroy();
    this.finish(new Error(why));
  }

  private finish(err?: Error): void {
    if (this.ended) return;
    this.ended = true;
    super.close();
    // Nothing more leaves: what waited to be written can be let go; nor comes: a body half landed.
    for (const l of this.sentListeners.splice(0)) l();
    this.landing?.sweep(this);
    for (const listener of this.closeListeners) listener(err);
  }
}

/** A listening socket: peers that complete the handshake reach `onPeer`. */
export class SocketServer {
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly server: net.Server) {
    server.on(server instanceof tls.Server ? "secureConnection" : "connection", (s: net.Socket) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Lets the process exit while it listens. */
  unref(): void {
    this.server.unref();
  }

  /** Stops listening and closes every connection it accepted. */
  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

export function listen<Out, In>(o: ListenOptions<Out, In>): Promise<SocketServer> {
  const log = o.log ?? (() => {});
  const accept = (socket: net.Socket) => {
    const where = socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : "a local process";
    socket.setNoDelay(true);
    const steps = handshaking(socket, true);
    const refuse = (why: string) => {
      log(`refused a connection from ${where}: ${why}`);
      socket.destroy();
    };
    const timer = setTimeout(() => refuse(`no handshake within ${o.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS} ms`), o.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS);
    const challenge = newChallenge();
    steps.send(serverHello(o, challenge));
    steps.next().then(
      (answer) => {
        clearTimeout(timer);
        if (socket.destroyed) return;
        const checked = checkAnswer(o, challenge, answer, o.info ?? {});
        if ("refusal" in checked) {
          log(`refused a connection from ${where}: ${checked.refusal}`);
          steps.send({ ok: false, error: checked.refusal });
          socket.end();
          return;
        }
        steps.send(checked.welcome);
        o.onPeer(new SocketChannel<Out, In>(socket, steps, where, log), checked.peer);
      },
      (err: Error) => {
        clearTimeout(timer);
        refuse(err.message);
      },
    );
  };
  const server = o.tls ? tls.createServer({ cert: o.tls.cert, key: o.tls.key, ca: o.tls.ca, minVersion: "TLSv1.2", handshakeTimeout: o.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS }, accept) : net.createServer(accept);
  // A client that fails its TLS negotiation (plain bytes, an HTTP request) is one connection lost.
  server.on("tlsClientError", (err, socket) => {
    log(`refused a connection from ${socket.remoteAddress}:${socket.remotePort}: ${err.message}`);
    socket.destroy();
  });
  const wrapped = new SocketServer(server);
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    const listening = () => {
      server.off("error", reject);
      server.on("error", (err) => log(`listener on ${describeEndpoint(o)}: ${err.message}`));
      resolve(wrapped);
    };
    if (o.path !== undefined) server.listen(o.path, listening);
    else server.listen(o.port, o.host, listening);
  });
}

/** Connects and runs the handshake; rejects with an error that names the address. */
export function connect<Out, In>(o: ConnectOptions): Promise<{ channel: SocketChannel<Out, In>; info: Record<string, unknown> }> {
  const where = `tsray at ${describeEndpoint(o)}`;
  const timeoutMs = o.timeoutMs ?? CONNECT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const target = o.path !== undefined ? { path: o.path } : { host: o.host, port: o.port };
    let reader: FrameReader | undefined;
    const socket: net.Socket = o.tls
      ? tls.connect({ ...target, ca: o.tls.ca, cert: o.tls.cert, key: o.tls.key, servername: o.host === undefined || net.isIP(o.host) ? undefined : o.host })
      : net.connect({ ...target, onread: readsInPlace(() => reader, (): net.Socket => socket) });
    socket.setNoDelay(true);
    const steps = handshaking(socket, false);
    reader = steps.reader;
    const fail = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err.message.includes(where) ? err : new HandshakeError(`cannot connect to ${where}: ${err.message}`));
    };
    const timer = setTimeout(() => fail(new HandshakeError(`no answer from ${where} within ${timeoutMs} ms`)), timeoutMs);
    (async () => {
      const hello = await steps.next();
      const { challenge, reply } = answerHello(o, hello, o.role, o.info ?? {}, where);
      steps.send(reply);
      const info = checkWelcome(o, challenge, (hello as { challenge: string }).challenge, await steps.next(), where);
      clearTimeout(timer);
      resolve({ channel: new SocketChannel<Out, In>(socket, steps, describeEndpoint(o), o.log ?? (() => {})), info });
    })().catch(fail);
  });
}

/** What a plain socket reads into when no body's bytes are due (they are copied out of it). */
const READ_BYTES = 64 * 1024;

/**
 * A plain socket's reads, for a connection that receives large bodies (a node pulling objects, a
 * driver getting them): the bytes of a body frame are read by the kernel straight into where the
 * body goes (the node's store, see FrameReader.directTarget), not into a buffer of the socket's
 * that is then copied (which took half of the time of a 100 MB pull); everything else is handed
 * to the socket's "data" listeners as usual.
 */
function readsInPlace(reader: () => FrameReader | undefined, socket: () => net.Socket): net.OnReadOpts {
  const scratch = Buffer.allocUnsafe(READ_BYTES);
  return {
    // Asked for the next read's buffer after each read has been handed over (and once at first).
    buffer: () => reader()?.directTarget() ?? scratch,
    callback: (n: number, read: Uint8Array) => {
      if (read === scratch) socket().emit("data", Buffer.from(scratch.subarray(0, n)));
      else reader()!.directWritten(n);
      return true;
    },
  };
}
