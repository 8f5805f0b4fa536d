// The actor the actor workloads call: a counter whose method does next to nothing.
export class Target {
  n = 0;
  call() {
    return ++this.n;
  }
}
