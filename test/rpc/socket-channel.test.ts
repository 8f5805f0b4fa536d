// The socket carrier between processes of a cluster, over real loopback sockets: the protocol's
// messages arrive as sent; every connection proves the token and the version before anything it
// sends is read; anything else on the port (wrong token, garbage, an HTTP request, a truncated or
// oversized frame, silence) drops that connection alone, says why in the log, and the listener
// goes on serving the next client.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { connect, listen, type ConnectSettings, type SocketChannel, type SocketServer, type TlsOptions } from "../../src/rpc/socket-channel.js";
import type { Peer } from "../../src/rpc/handshake.js";
import { PROTOCOL_VERSION, type TaskSpec } from "../../src/rpc/protocol.js";
import { FrameKind } from "../../src/rpc/frames.js";
import { selfSignedCert } from "../helpers/tls.js";
import type { Message } from "../../src/rpc/wire.js";

const TOKEN = "a".repeat(64);
const VERSION = "1.2.3";

/** An echo server: every message a peer sends comes back to it. Its log lines are kept. */
async function echoServer(opts: { tls?: TlsOptions; handshakeTimeoutMs?: number } = {}) {
  const log: string[] = [];
  const peers: Peer[] = [];
  const logged = new Set<(line: string) => void>();
  const server = await listen<Message, Message>({
    host: "127.0.0.1", port: 0, version: VERSION, token: TOKEN, info: { nodeId: "head" }, ...opts,
    log: (line) => {
      log.push(line);
      for (const l of logged) l(line);
    },
    onPeer(channel, peer) {
      peers.push(peer);
      channel.onMessage((m) => channel.send(m));
    },
  });
  /** Resolves with the next log line. */
  const nextLog = () => new Promise<string>((resolve) => {
    const l = (line: string) => {
      logged.delete(l);
      resolve(line);
    };
    logged.add(l);
  });
  return { server, log, peers, nextLog };
}

const client = (port: number, over: Partial<ConnectSettings> = {}) =>
  connect<Message, Message>({ host: "127.0.0.1", port, version: VERSION, token: TOKEN, role: "driver", info: { pid: 1 }, ...over });

/** The next `n` messages the channel receives. */
function receive(channel: SocketChannel<Message, Message>, n: number): Promise<Message[]> {
  const got: Message[] = [];
  return new Promise((resolve) => channel.onMessage((m) => got.push(m) === n && resolve(got)));
}

/** Sends raw bytes to the port; resolves once the server has closed the connection. */
function rawConnection(port: number, bytes: Buffer, end = false): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port }, () => (end ? s.end(bytes) : s.write(bytes)));
    s.on("error", () => {});
    s.on("data", () => {});
    s.on("close", () => resolve());
  });
}

let shared: Awaited<ReturnType<typeof echoServer>>;
before(async () => (shared = await echoServer()));
after(() => shared.server.close());

test("messages arrive in order and as sent, both ways, and the peers learn who the other is", async () => {
  const spec: TaskSpec = { taskId: "b".repeat(24), name: "f", fnId: "fn", args: [{ v: { prim: 7n } }, { ref: "c".repeat(28) }], numReturns: 1, resources: { CPU: 1 }, maxRetries: 3, ownerId: "o" };
  const { channel, info } = await client(shared.server.port);
  assert.deepEqual(info, { nodeId: "head" });
  assert.deepEqual(shared.peers.at(-1), { version: VERSION, role: "driver", info: { pid: 1 } });
  const sent: Message[] = [{ t: "submit", spec }];
  for (let i = 0; i < 2000; i++) sent.push({ t: "request", reqId: i, method: "m", args: [i, { deep: [i] }] });
  const got = receive(channel, sent.length);
  for (const m of sent) channel.send(m);
  assert.deepEqual(await got, sent);
  channel.close();
});

test("a value larger than a frame crosses as chunks, intact", async () => {
  const { channel } = await client(shared.server.port);
  const body = new Uint8Array(150 * 2 ** 20);
  for (let i = 0; i < body.length; i += 4096) body[i] = (i / 4096) & 0xff;
  const put: Message = { t: "put", id: "d".repeat(28), value: { data: new Uint8Array([1, 2, 3]), bodies: [body, new Uint8Array(2 ** 20 + 1).fill(3)] } };
  const got = receive(channel, 1);
  channel.send(put);
  const [back] = (await got) as Extract<Message, { t: "put" }>[];
  assert.deepEqual(back.value.data, new Uint8Array([1, 2, 3]));
  assert.equal(back.value.bodies![0].length, body.length);
  assert.ok(Buffer.from(back.value.bodies![0]).equals(body));
  assert.ok(back.value.bodies![1].every((b) => b === 3));
  channel.close();
});

test("a wrong or missing token is refused, and the refusal is logged", async () => {
  for (const token of ["b".repeat(64), ""]) {
    const logged = shared.nextLog();
    await assert.rejects(client(shared.server.port, { token }), /127\.0\.0\.1:\d+ refused the connection: wrong or missing cluster token/);
    assert.match(await logged, /refused a connection from 127\.0\.0\.1:\d+: wrong or missing cluster token/);
  }
});

test("a peer of another version is refused with a message naming both versions", async () => {
  await assert.rejects(client(shared.server.port, { version: "9.9.9" }), /version mismatch: this process runs 9\.9\.9, tsray at 127\.0\.0\.1:\d+ runs 1\.2\.3/);
});

test("a listener that does not know the token is found out by the client", async () => {
  // It says hello as a node would, then welcomes any answer with a made-up proof.
  const impostor = net.createServer((s) => {
    const frame = (v: object) => {
      const json = Buffer.from(JSON.stringify(v));
      const head = Buffer.from([0, 0, 0, 0, FrameKind.control]);
      head.writeUInt32BE(json.length + 1, 0);
      s.write(Buffer.concat([head, json]));
    };
    frame({ tsray: "tsray", version: VERSION, protocol: PROTOCOL_VERSION, challenge: "x".repeat(44) });
    s.once("data", () => frame({ ok: true, proof: "y".repeat(44), info: {} }));
    s.on("error", () => {});
  });
  await new Promise<void>((resolve) => impostor.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = impostor.address() as net.AddressInfo;
    await assert.rejects(client(port), /tsray at 127\.0\.0\.1:\d+ could not prove it knows the cluster token/);
  } finally {
    await new Promise((resolve) => impostor.close(resolve));
  }
});

test("garbage, an HTTP request, oversized and truncated frames drop that connection only", async () => {
  const cases: [string, Buffer, RegExp][] = [
    ["http", Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), /over the limit/],
    ["random", Buffer.from([0, 0, 0, 9, 0, 0xff, 0xfe, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06]), /not JSON/],
    ["oversized", Buffer.from([0x04, 0, 0, 0, 0]), /over the limit/],
    ["batch first", Buffer.from([0, 0, 0, 2, 1, 0]), /sent messages before the handshake/],
    ["truncated", Buffer.from([0, 0, 0, 50, 0, 0x7b]), /closed during the handshake/],
  ];
  for (const [, bytes, why] of cases) {
    const logged = shared.nextLog();
    await rawConnection(shared.server.port, bytes, true);
    assert.match(await logged, why);
  }
  // The listener still serves.
  const { channel } = await client(shared.server.port);
  const got = receive(channel, 1);
  channel.send({ t: "request", reqId: 1, method: "still", args: [] });
  assert.deepEqual(await got, [{ t: "request", reqId: 1, method: "still", args: [] }]);
  channel.close();
});

test("a connection silent past the handshake timeout is dropped", async () => {
  const quick = await echoServer({ handshakeTimeoutMs: 200 });
  try {
    const logged = quick.nextLog();
    await rawConnection(quick.server.port, Buffer.alloc(0));
    assert.match(await logged, /no handshake within 200 ms/);
  } finally {
    await quick.server.close();
  }
});

test("an authenticated peer that breaks the protocol is dropped; the other peers go on", async () => {
  const good = await client(shared.server.port);
  const bad = await client(shared.server.port);
  const closed = new Promise<Error | undefined>((resolve) => bad.channel.onClose(resolve));
  const logged = shared.nextLog();
  // A batch frame whose payload is not V8's serialization of a list.
  (bad.channel as unknown as { socket: net.Socket }).socket.write(Buffer.from([0, 0, 0, 4, 1, 0xde, 0xad, 0xbe]));
  assert.match(await logged, /dropped the connection of 127\.0\.0\.1:\d+: sent a batch that cannot be read/);
  await closed;
  const got = receive(good.channel, 1);
  good.channel.send({ t: "request", reqId: 2, method: "m", args: [] });
  assert.equal((await got).length, 1);
  good.channel.close();
});

test("body frames that do not fit what they announce drop the connection", async () => {
  const bodyFrame = (index: number, total: number, chunk: number[]) => {
    const head = Buffer.alloc(17);
    head.writeUInt32BE(13 + chunk.length, 0);
    head[4] = FrameKind.body;
    head.writeUInt32BE(index, 5);
    head.writeDoubleBE(total, 9);
    return Buffer.concat([head, Buffer.from(chunk)]);
  };
  for (const [frame, why] of [
    [bodyFrame(0, 2 ** 40, [1]), /a body of \d+ bytes was announced/],
    [bodyFrame(3, 10, [1]), /body 3 arrived where body 0 was due/],
    [bodyFrame(0, 2, [1, 2, 3]), /goes past its body/],
  ] as const) {
    const peer = await client(shared.server.port);
    const logged = shared.nextLog();
    (peer.channel as unknown as { socket: net.Socket }).socket.write(frame);
    assert.match(await logged, why);
  }
});

test("connecting to a port nobody listens on rejects with an error naming the address", async () => {
  const free = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
  await assert.rejects(client(free), new RegExp(`cannot connect to tsray at 127\\.0\\.0\\.1:${free}: connect ECONNREFUSED`));
});

test("a closed connection is told to the other side", async () => {
  let serverSide: SocketChannel<Message, Message> | undefined;
  const server: SocketServer = await listen<Message, Message>({
    host: "127.0.0.1", port: 0, version: VERSION, token: TOKEN, onPeer: (c) => (serverSide = c),
  });
  try {
    const { channel } = await client(server.port);
    const closed = new Promise<void>((resolve) => channel.onClose(() => resolve()));
    while (!serverSide) await new Promise((r) => setImmediate(r));
    serverSide.close();
    await closed;
  } finally {
    await server.close();
  }
});

test("over a Unix socket, as worker processes reach their node", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "tsray-sock-"));
  const at = path.join(dir, "node.sock");
  const local = await listen<Message, Message>({
    path: at, version: VERSION, token: TOKEN, onPeer: (channel) => channel.onMessage((m) => channel.send(m)),
  });
  try {
    const { channel } = await connect<Message, Message>({ path: at, version: VERSION, token: TOKEN, role: "worker" });
    const got = receive(channel, 1);
    channel.send({ t: "request", reqId: 4, method: "local", args: [] });
    assert.deepEqual(await got, [{ t: "request", reqId: 4, method: "local", args: [] }]);
    channel.close();
  } finally {
    await local.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("over TLS, with a certificate the client trusts", async (t) => {
  const tls = selfSignedCert();
  if (!tls) return t.skip("openssl is not installed");
  try {
    const { cert, key } = tls;
    const secure = await echoServer({ tls: { cert, key } });
    try {
      const { channel } = await client(secure.server.port, { tls: { ca: cert } });
      const got = receive(channel, 1);
      channel.send({ t: "request", reqId: 3, method: "tls", args: [new Uint8Array([1, 2, 3])] });
      assert.deepEqual(await got, [{ t: "request", reqId: 3, method: "tls", args: [new Uint8Array([1, 2, 3])] }]);
      channel.close();
      // A client that does not trust the certificate, and one that speaks plain TCP, are refused.
      await assert.rejects(client(secure.server.port, { tls: {} }), /self-signed certificate/);
      const logged = secure.nextLog();
      await rawConnection(secure.server.port, Buffer.from([0, 0, 0, 2, 0, 0x7b]), true);
      assert.match(await logged, /refused a connection/);
    } finally {
      await secure.server.close();
    }
  } finally {
    rmSync(tls.dir, { recursive: true, force: true });
  }
});
