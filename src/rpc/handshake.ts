/**
 * The first exchange on every connection between processes of a cluster (CLI.md: "Every
 * connection starts with a handshake that carries the package version and the token").
 *
 * Both sides prove they know the cluster token without sending it: the server sends a random
 * challenge, the client answers with an HMAC of both sides' challenges under the token, and the
 * server answers the client's challenge the same way. A listener that does not know the token
 * learns nothing it could replay, and a client learns whether the server knows it. Steps are
 * small JSON control frames; nothing else is read before the end.
 *
 *   server → client  { tsray, version, protocol, challenge }
 *   client → server  { tsray, version, protocol, challenge, proof, role, info }
 *   server → client  { ok: true, proof, info }  or  { ok: false, error }
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { PROTOCOL_VERSION } from "./protocol.js";

/** What a side says of itself: the other side's checks and the peer's description come from it. */
export interface Greeting {
  /** The package version, as its package.json says. */
  version: string;
  /** The cluster token. */
  token: string;
}

/** Who is on the other end, once the handshake succeeded. */
export interface Peer {
  version: string;
  /** What the client connects as ("node", "driver", "worker", "cli"...). */
  role: string;
  /** What the other side chose to say of itself (its node id, ports...). */
  info: Record<string, unknown>;
}

export class HandshakeError extends Error {
  override readonly name = "HandshakeError";
}

const MAGIC = "tsray";

export const serverHello = (g: Greeting, challenge: string) => ({ tsray: MAGIC, version: g.version, protocol: PROTOCOL_VERSION, challenge });

export const newChallenge = (): string => randomBytes(32).toString("base64");

function proof(token: string, side: "client" | "server", first: string, second: string): string {
  return createHmac("sha256", token).update(`${side}\n${first}\n${second}`).digest("base64");
}

function sameProof(expected: string, given: unknown): boolean {
  if (typeof given !== "string") return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

const versionMismatch = (mine: string, theirs: unknown, where: string) =>
  `tsray version mismatch: this process runs ${mine}, ${where} runs ${String(theirs)}; run the same version everywhere in a cluster`;

/** Client side, step 2: checks the server's hello and answers it. Throws a HandshakeError. */
export function answerHello(g: Greeting, hello: unknown, role: string, info: Record<string, unknown>, where: string) {
  const h = hello as Record<string, unknown>;
  if (h?.tsray !== MAGIC || typeof h.challenge !== "string") throw new HandshakeError(`${where} is not a tsray node`);
  if (h.version !== g.version || h.protocol !== PROTOCOL_VERSION) throw new HandshakeError(versionMismatch(g.version, h.version, where));
  const challenge = newChallenge();
  return {
    challenge,
    reply: { tsray: MAGIC, version: g.version, protocol: PROTOCOL_VERSION, challenge, proof: proof(g.token, "client", h.challenge, challenge), role, info },
  };
}

/**
 * Server side, step 3: checks the client's answer to `challenge`. Returns the peer and the
 * welcome to send, or the refusal to send (and log) instead.
 */
export function checkAnswer(
  g: Greeting, challenge: string, answer: unknown, info: Record<string, unknown>,
): { peer: Peer; welcome: object } | { refusal: string } {
  const a = answer as Record<string, unknown>;
  if (a?.tsray !== MAGIC || typeof a.challenge !== "string" || typeof a.role !== "string") return { refusal: "not a tsray handshake" };
  if (a.version !== g.version || a.protocol !== PROTOCOL_VERSION) return { refusal: versionMismatch(g.version, a.version, "the peer") };
  if (!sameProof(proof(g.token, "client", challenge, a.challenge), a.proof)) return { refusal: "wrong or missing cluster token" };
  const peerInfo = typeof a.info === "object" && a.info !== null ? (a.info as Record<string, unknown>) : {};
  return {
    peer: { version: a.version as string, role: a.role, info: peerInfo },
    welcome: { ok: true, proof: proof(g.token, "server", a.challenge, challenge), info },
  };
}

/** Client side, the end: the server's welcome (or refusal). Returns what the server says of itself. */
export function checkWelcome(g: Greeting, myChallenge: string, serverChallenge: string, welcome: unknown, where: string): Record<string, unknown> {
  const w = welcome as Record<string, unknown>;
  if (w?.ok === false) throw new HandshakeError(`${where} refused the connection: ${String(w.error)}`);
  if (w?.ok !== true || !sameProof(proof(g.token, "server", myChallenge, serverChallenge), w.proof)) {
    throw new HandshakeError(`${where} could not prove it knows the cluster token`);
  }
  return typeof w.info === "object" && w.info !== null ? (w.info as Record<string, unknown>) : {};
}
