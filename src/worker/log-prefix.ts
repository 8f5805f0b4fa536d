/**
 * Prefixes each line a worker thread writes to stdout or stderr, so the driver's terminal
 * shows which task or actor printed it. Partial lines wait for their end.
 * With `show` false (init's logToDriver: false) the lines are dropped.
 */
export function prefixLines(prefix: () => string, show: boolean): void {
  for (const stream of [process.stdout, process.stderr]) {
    // Silenced workers drop their output here, so nothing crosses to the driver at all.
    const write = show ? (stream.write.bind(stream) as (chunk: string) => boolean) : () => true;
    let partial = "";
    stream.write = ((chunk: string | Uint8Array, encoding?: unknown, cb?: unknown): boolean => {
      const text = partial + (typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
      const lines = text.split("\n");
      partial = lines.pop()!;
      const done = typeof encoding === "function" ? encoding : cb;
      if (!lines.length) {
        if (typeof done === "function") (done as () => void)();
        return true;
      }
      const p = prefix();
      const ok = write(lines.map((l) => `${p} ${l}\n`).join(""));
      if (typeof done === "function") (done as () => void)();
      return ok;
    }) as typeof stream.write;
  }
}
