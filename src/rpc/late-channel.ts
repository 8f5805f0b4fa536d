/**
 * A channel whose other end is not there yet (a worker process still starting): what is sent
 * waits, in order, until `attach` gives it the real channel; closing it before then drops it.
 */
import type { Channel } from "./channel.js";

export class LateChannel<Out, In> implements Channel<Out, In> {
  private waiting: Out[] | undefined = [];
  private inner?: Channel<Out, In>;
  private handler?: (msg: In) => void;
  private closed = false;
  private sentListeners: (() => void)[] = [];

  attach(inner: Channel<Out, In>): void {
    if (this.closed) return inner.close();
    this.inner = inner;
    if (this.handler) inner.onMessage(this.handler);
    for (const msg of this.waiting!) inner.send(msg);
    this.waiting = undefined;
    for (const l of this.sentListeners.splice(0)) this.onSent(l);
  }

  /** Once attached, the inner channel's; before, after what waits has gone (or never will). */
  onSent(listener: () => void): void {
    if (this.inner) return this.inner.onSent ? this.inner.onSent(listener) : listener();
    if (this.closed) return listener();
    this.sentListeners.push(listener);
  }

  send(msg: Out): void {
    if (this.inner) this.inner.send(msg);
    else if (!this.closed) this.waiting!.push(msg);
  }

  unsent(): Out | undefined {
    return this.inner ? this.inner.unsent() : this.waiting?.[this.waiting.length - 1];
  }

  flushNow(): void {
    this.inner?.flushNow();
  }

  onMessage(handler: (msg: In) => void): void {
    this.handler = handler;
    this.inner?.onMessage(handler);
  }

  close(): void {
    this.closed = true;
    this.waiting = undefined;
    for (const l of this.sentListeners.splice(0)) l();
    this.inner?.close();
  }
}
