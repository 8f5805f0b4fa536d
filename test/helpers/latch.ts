// An actor tests hold work back with: calls to wait() return once open() was called.
export class Latch {
  #open!: () => void;
  readonly #opened = new Promise<void>((r) => { this.#open = r; });
  async wait() {
    await this.#opened;
  }
  open() {
    this.#open();
  }
}
