/** An array used as a FIFO queue, with O(1) removal at the front. */
export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(x: T): void {
    this.items.push(x);
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): T | undefined {
    if (this.head === this.items.length) return undefined;
    const x = this.items[this.head];
    this.items[this.head++] = undefined;
    // Compact once the dead prefix dominates, so memory follows the live size.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return x;
  }

  /** Puts `xs` back at the front, in their order (tasks a blocked worker handed back). */
  unshiftAll(xs: T[]): void {
    if (!xs.length) return;
    this.items = xs.concat(this.items.slice(this.head) as T[]);
    this.head = 0;
  }

  /** Takes every element out, in order. */
  takeAll(): T[] {
    const out = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    return out;
  }

  /** Removes and returns the first element that `pred` accepts. */
  removeWhere(pred: (x: T) => boolean): T | undefined {
    for (let i = this.head; i < this.items.length; i++) {
      const x = this.items[i] as T;
      if (pred(x)) {
        this.items.splice(i, 1);
        return x;
      }
    }
    return undefined;
  }

  /** True if `pred` accepts some element. */
  some(pred: (x: T) => boolean): boolean {
    for (let i = this.head; i < this.items.length; i++) if (pred(this.items[i] as T)) return true;
    return false;
  }

  /** Removes the first element equal to `x`; true if there was one. */
  remove(x: T): boolean {
    const i = this.items.indexOf(x, this.head);
    if (i < 0) return false;
    this.items.splice(i, 1);
    return true;
  }
}
