/**
 * A two-way message channel that batches: the messages sent during one job (or turn) of the
 * event loop travel as one array in one postMessage, and wake the receiver once. Submitting
 * 20,000 tasks in a loop costs a few hundred messages, not 20,000.
 */
import { receiveMessageOnPort, type MessagePort } from "node:worker_threads";
import type { Doorbell } from "./doorbell.js";
import { decode, encode, type Message } from "./wire.js";

export interface Channel<Out, In> {
  send(msg: Out): void;
  /**
   * The last message of the batch not sent yet: a sender may add to it instead of sending
   * another (a thousand results or released refs in one turn then travel as one message).
   */
  unsent(): Out | undefined;
  /** Sends what is batched now instead of at the end of this turn. */
  flushNow(): void;
  onMessage(handler: (msg: In) => void): void;
  close(): void;
  /**
   * Calls `listener` once everything sent so far has left the process (written to a socket), or
   * will never go. Channels that have it may be sent views of shared memory (see viewsOf).
   */
  onSent?(listener: () => void): void;
}

export abstract class BatchingChannel<Out, In> implements Channel<Out, In> {
  private batch: Out[] = [];
  private scheduled = false;
  /** Past this many messages a batch goes at once, without waiting for the end of the job. */
  protected readonly maxBatch: number = Infinity;
  protected handler: (msg: In) => void = () => {};
  protected closed = false;

  send(msg: Out): void {
    if (this.closed) return;
    if (this.batch.push(msg) >= this.maxBatch) return this.flush();
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(this.flush);
    }
  }

  unsent(): Out | undefined {
    return this.closed ? undefined : this.batch[this.batch.length - 1];
  }

  /** Messages waiting for the batch to go. */
  protected batched(): number {
    return this.batch.length;
  }

  onMessage(handler: (msg: In) => void): void {
    this.handler = handler;
  }

  close(): void {
    this.flush();
    this.closed = true;
  }

  flushNow(): void {
    this.flush();
  }

  protected deliver(batch: In[]): void {
    for (let i = 0; i < batch.length; i++) this.handler(batch[i]);
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    if (this.batch.length === 0 || this.closed) return;
    const batch = this.batch;
    this.batch = [];
    this.post(batch);
  };

  protected abstract post(batch: Out[]): void;

  /** When a batch goes: at the end of the current job (once its microtasks have run), by default. */
  protected schedule(flush: () => void): void {
    queueMicrotask(flush);
  }
}

/** Over a MessagePort: structured clone of the wire form (see wire.ts), SharedArrayBuffers shared, not copied. */
export class PortChannel<Out, In> extends BatchingChannel<Out, In> {
  private readonly listener = (batch: unknown): void => this.receive(batch as unknown[]);
  // A long batch goes before the turn ends, so the other thread can start on it meanwhile.
  protected override readonly maxBatch = 128;
  /**
   * `doorbell`: the peer's, rung after each post in case the peer sleeps on (or watches) it;
   * `slot`: this end's slot on it, when the peer's bell is rung by many. `endOfTurn`: batches go
   * once per turn of the event loop rather than per job: a worker thread running queued calls
   * one after another then sends their results in one message, instead of the main thread
   * receiving (and waking for) one per call.
   */
  constructor(
    private readonly port: MessagePort,
    private readonly doorbell?: Doorbell,
    private readonly slot = -1,
    private readonly endOfTurn = false,
  ) {
    super();
    port.on("message", this.listener);
  }

  protected override schedule(flush: () => void): void {
    if (this.endOfTurn) setImmediate(flush);
    else queueMicrotask(flush);
  }

  protected post(batch: Out[]): void {
    const wire = new Array(batch.length);
    for (let i = 0; i < batch.length; i++) wire[i] = encode(batch[i] as Message);
    this.port.postMessage(wire);
    this.doorbell?.ring(this.slot);
  }

  /** The batch being handled, and the index of its next message (see drain). */
  private inbox?: { wire: unknown[]; next: number };

  private receive(wire: unknown[]): void {
    const outer = this.inbox;
    const box = (this.inbox = { wire, next: 0 });
    try {
      while (box.next < wire.length) this.handler(decode(wire[box.next++] as Message) as In);
    } finally {
      this.inbox = outer;
    }
  }

  /**
   * Handles, now, the messages that have arrived but wait for the event loop: lets a thread
   * that must not return to its loop (a synchronous put waiting for room), or that watches for
   * replies instead of sleeping in it, hear its peers. Called from a handler of this channel
   * (the store making room while it handles a message), the rest of that message's batch comes
   * first: it may hold the very releases the wait is for.
   */
  drain(): void {
    const box = this.inbox;
    if (box) while (box.next < box.wire.length) this.handler(decode(box.wire[box.next++] as Message) as In);
    for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) this.receive(m.message as unknown[]);
  }
  /** Lets the process exit while this channel is open (the listener would keep it alive). */
  unref(): void {
    this.port.unref();
  }
  override close(): void {
    super.close();
    this.port.off("message", this.listener);
    this.port.close();
  }
}

/** Both ends in one thread: messages are handed over as they are, without a copy. */
export class LocalChannel<Out, In> extends BatchingChannel<Out, In> {
  peer!: LocalChannel<In, Out>;
  static pair<A, B>(): [LocalChannel<A, B>, LocalChannel<B, A>] {
    const a = new LocalChannel<A, B>();
    const b = new LocalChannel<B, A>();
    a.peer = b;
    b.peer = a;
    return [a, b];
  }
  protected post(batch: Out[]): void {
    if (!this.peer.closed) this.peer.deliver(batch);
  }
}
