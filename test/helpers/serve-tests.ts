// What every tsray Serve test file sets up: an embedded cluster (32 logical CPUs by default:
// replicas hold one each) and Serve on a free port, both gone after the file.
import { after, before } from "node:test";
import * as ray from "tsray";
import * as serve from "tsray/serve";

/** `url()`: the proxy's URL once the file's tests run ("" with proxies disabled). */
export function serveCluster(start: serve.StartOptions = { http: { port: 0 } }, numCpus = 32): { url(): string } {
  let base = "";
  before(async () => {
    await ray.init({ numCpus, includeDashboard: false, logToDriver: false });
    base = (await serve.start(start)).httpUrl ?? "";
  });
  after(async () => {
    await serve.shutdown();
    await ray.shutdown();
  });
  return { url: () => base };
}

/**
 * What `probe` gives once it gives something (polled every 50 ms: a state the tests cannot be
 * told of, such as a controller's decision); fails naming `what` after `limitMs`.
 */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, limitMs = 90_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
