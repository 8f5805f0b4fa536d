// Reading the head's HTTP API: one JSON getter, the state API's paged lists, and a hook that
// polls while its page is shown, so the pages follow the cluster without a reload.
import { useEffect, useState } from "preact/hooks";
import type { ListPage } from "./types";

/** How often the pages ask again. */
export const POLL_MS = 2000;

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, { signal, headers: { accept: "application/json" } });
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { error?: string };
    throw new Error(body.error ?? `${res.status} ${res.statusText}`);
  }
  return (await res.json()) as T;
}

export interface ListQuery {
  /** Equality filters (the API compares without case): key → value; empty values are left out. */
  filters?: Record<string, string>;
  offset?: number;
  limit?: number;
}

/** One page of `/api/v0/KIND`, filtered on the server. */
export async function getList<T>(kind: string, q: ListQuery = {}, signal?: AbortSignal): Promise<ListPage<T>> {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(q.filters ?? {})) {
    if (value === "") continue;
    params.append("filter_keys", key);
    params.append("filter_predicates", "=");
    params.append("filter_values", value);
  }
  if (q.offset !== undefined) params.set("offset", String(q.offset));
  if (q.limit !== undefined) params.set("limit", String(q.limit));
  const answer = await getJson<{ data: { result: ListPage<T> } }>(`/api/v0/${kind}?${params}`, signal);
  return answer.data.result;
}

export interface Polled<T> {
  data?: T;
  error?: string;
}

/**
 * `load`'s latest answer, asked again every POLL_MS while the page is open (and the tab shown);
 * asked anew at once when `key` changes (a filter, a page). A failed poll keeps the last data.
 */
export function usePoll<T>(load: (signal: AbortSignal) => Promise<T>, key: string): Polled<T> {
  const [state, setState] = useState<Polled<T>>({});
  useEffect(() => {
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      if (!document.hidden) {
        try {
          const data = await load(abort.signal);
          setState({ data });
          connection.report(undefined);
        } catch (err) {
          if (abort.signal.aborted) return;
          setState((s) => ({ data: s.data, error: (err as Error).message }));
          connection.report((err as Error).message);
        }
      }
      if (!abort.signal.aborted) timer = setTimeout(tick, POLL_MS);
    };
    void tick();
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
  }, [key]);
  return state;
}

/** Whether the last poll of any page reached the head (the header's live dot). */
export const connection = {
  lastOk: 0,
  error: undefined as string | undefined,
  listeners: new Set<() => void>(),
  report(error: string | undefined) {
    if (error === undefined) this.lastOk = Date.now();
    this.error = error;
    for (const l of this.listeners) l();
  },
};

export function useConnection(): { lastOk: number; error?: string } {
  const [, bump] = useState(0);
  useEffect(() => {
    const l = () => bump((n) => n + 1);
    connection.listeners.add(l);
    return () => void connection.listeners.delete(l);
  }, []);
  return { lastOk: connection.lastOk, error: connection.error };
}

/**
 * A server-paged list (`/api/v0/KIND`), polled: the rows of the page at `offset` that match
 * `filters`, and how many match in all. A change of filters goes back to the first page.
 */
export function usePagedList<T>(kind: string, filters: Record<string, string>, limit: number) {
  const filterKey = JSON.stringify(filters);
  const [at, setAt] = useState({ offset: 0, filterKey });
  const offset = at.filterKey === filterKey ? at.offset : 0;
  const polled = usePoll((signal) => getList<T>(kind, { filters, offset, limit }, signal), `${kind} ${filterKey} ${offset} ${limit}`);
  const page = polled.data;
  return {
    rows: page?.result,
    matched: page ? page.total - page.num_filtered : 0,
    total: page?.total ?? 0,
    error: polled.error,
    offset,
    setOffset: (o: number) => setAt({ offset: o, filterKey }),
  };
}
