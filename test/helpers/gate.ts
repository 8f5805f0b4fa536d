// An actor class that orders events between tasks without sleeps: `wait(key)` returns once
// `open(key)` was called, before or after. Use it with a high maxConcurrency, so that many waits
// can be pending at once.
export class Gate {
  private readonly opened = new Set<string>();
  private readonly waiters = new Map<string, (() => void)[]>();

  async wait(key: string): Promise<void> {
    if (this.opened.has(key)) return;
    await new Promise<void>((resolve) => this.waiters.set(key, [...(this.waiters.get(key) ?? []), resolve]));
  }

  open(key: string): void {
    this.opened.add(key);
    for (const w of this.waiters.get(key) ?? []) w();
    this.waiters.delete(key);
  }

  /** Ends every wait still pending. */
  openAll(): void {
    for (const key of [...this.waiters.keys()]) this.open(key);
  }
}
