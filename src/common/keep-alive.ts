/**
 * The runtime's threads and ports are unref'd: they never keep the process alive by themselves,
 * so a program ends when its own work does. While the program waits for the runtime (a get, a
 * request, `init` waiting for its workers) the process must stay, though: one timer, ref'd while
 * any such wait is in progress and unref'd after, rather than one set and cleared per call (a
 * get is a hot path). Unref'd, it keeps nothing alive and is not among the process's active
 * resources.
 */
let waiting = 0;
let timer: NodeJS.Timeout | undefined;

/** `p`, with the process kept alive until it settles. */
export async function keepingProcessAlive<T>(p: Promise<T>): Promise<T> {
  if (waiting++ === 0) (timer ??= setInterval(() => {}, 1 << 30)).ref();
  try {
    return await p;
  } finally {
    if (--waiting === 0) timer!.unref();
  }
}
