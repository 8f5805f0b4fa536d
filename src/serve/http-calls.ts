/**
 * The proxy's HTTP calls to one replica, made in one turn of its event loop, go as one actor call
 * (replica.httpMany): under load, requests arrive several per turn, and an actor call's fixed
 * cost (its spec, its relay through the node, its result object) is then paid once for them all.
 * A replica answers such a call as soon as one of its requests has something to send (and the
 * others that have by then), so a slow request never holds back a fast one: those not ready come
 * back empty, and their callers go on with next() as for any streamed response.
 */
import type { ReplicaAccess } from "./controller-client.js";
import { getOnce } from "./get-once.js";
import type { WireRequest } from "./http-result.js";
import type { RequestMeta, StreamBatch } from "./response.js";

interface Waiting {
  meta: RequestMeta;
  wire: WireRequest;
  resolve(batch: StreamBatch): void;
  reject(err: unknown): void;
}

const outboxes = new Map<ReplicaAccess, Waiting[]>();
let flushing = false;

/** The first batch of an HTTP request's response (head first), sent with the others of this turn. */
export function sendHttp(replica: ReplicaAccess, meta: RequestMeta, wire: WireRequest): Promise<StreamBatch> {
  return new Promise((resolve, reject) => {
    let outbox = outboxes.get(replica);
    if (outbox === undefined) outboxes.set(replica, (outbox = []));
    outbox.push({ meta, wire, resolve, reject });
    if (!flushing) {
      flushing = true;
      setImmediate(flush);
    }
  });
}

function flush(): void {
  flushing = false;
  for (const [replica, outbox] of outboxes) {
    const requests = outbox.map((w): [RequestMeta, WireRequest] => [w.meta, w.wire]);
    getOnce(replica.actor.httpMany.remote(asJsonIfBodiless(requests))).then(
      (answer) => {
        const batches = typeof answer === "string" ? (JSON.parse(answer) as StreamBatch[]) : answer;
        outbox.forEach((w, i) => w.resolve(batches[i]!));
      },
      (err) => outbox.forEach((w) => w.reject(err)),
    );
  }
  outboxes.clear();
}

/**
 * Requests without bodies (most) go as one JSON string, and so do answers of heads and text (see
 * replica.httpMany): a string argument or result skips the structured-clone serializer, which
 * takes about three times as long, each way, for records this small.
 */
function asJsonIfBodiless(requests: [RequestMeta, WireRequest][]): string | [RequestMeta, WireRequest][] {
  return requests.every(([, wire]) => wire.body === null) ? JSON.stringify(requests) : requests;
}
