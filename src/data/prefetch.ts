/**
 * Prefetching for iterBatches (option prefetchBatches): the next batches are fetched and
 * formatted while the consumer works on the current one, so a training step does not wait on the
 * store. `ahead` requests are kept pending on the source (an async generator queues them and
 * answers in order); closing the stream closes the source once they are answered.
 */
export async function* prefetched<T>(source: AsyncIterable<T>, ahead: number): AsyncGenerator<T, void, undefined> {
  if (ahead <= 0) {
    yield* source;
    return;
  }
  const it = source[Symbol.asyncIterator]();
  const pending: Promise<IteratorResult<T>>[] = [];
  let done = false;
  try {
    for (;;) {
      while (!done && pending.length <= ahead) {
        const next = it.next();
        // Failures are seen when this request's turn comes; meanwhile they are not unhandled.
        next.catch(() => {});
        pending.push(next);
      }
      const result = await pending.shift()!;
      if (result.done) {
        done = true;
        return;
      }
      yield result.value;
    }
  } finally {
    if (!done) {
      await Promise.allSettled(pending);
      await it.return?.();
    }
  }
}
