/**
 * A request's abort, whose AbortSignal is made only when something asks for it: making one costs
 * about as much as the rest of a no-op request's work in its replica, and most requests are never
 * aborted nor asked for their signal. Aborted before it was asked for, the signal comes aborted.
 */
export class LazyAbort {
  #controller?: AbortController;
  #reason: unknown;
  #aborted = false;

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}
