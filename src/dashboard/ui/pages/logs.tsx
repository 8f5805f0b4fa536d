// The head's log (what the node and its workers printed): the last lines, those holding the
// filter's text, and the new ones as they are written (the tail, read from a streamed answer).
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { getJson } from "../api";

/** Lines kept on the page: the oldest go first past it. */
const KEEP = 5000;

type Tail = "off" | "following" | "stopped";

export function LogsPage() {
  const [typed, setTyped] = useState("");
  const [filter, setFilter] = useState("");
  const [follow, setFollow] = useState(true);
  const [lines, setLines] = useState<string[]>();
  const [tail, setTail] = useState<Tail>("off");
  const [error, setError] = useState<string>();
  /** Why there is no log to show (an embedded cluster's workers print to its program's output). */
  const [note, setNote] = useState<string>();
  const box = useRef<HTMLPreElement>(null);
  const pinned = useRef(true);

  useEffect(() => {
    const t = setTimeout(() => setFilter(typed.trim()), 300);
    return () => clearTimeout(t);
  }, [typed]);

  useEffect(() => {
    const abort = new AbortController();
    const wanted = (line: string) => !filter || line.toLowerCase().includes(filter.toLowerCase());
    let early: string[] | undefined = [];
    const add = (more: string[]) => {
      if (early) return void early.push(...more);
      if (more.length) setLines((old) => [...(old ?? []), ...more].slice(-KEEP));
    };
    setLines(undefined);
    setError(undefined);
    // The tail first, then the last lines: what is written in between is not lost.
    const tailing = follow ? followTail(abort.signal, (l) => add(l.filter(wanted)), setTail) : Promise.resolve();
    getJson<{ lines: string[]; note?: string }>(`/api/v0/logs/node?lines=1000&filter=${encodeURIComponent(filter)}`, abort.signal).then((r) => {
      setNote(r.note);
      setLines([...r.lines, ...early!].slice(-KEEP));
      early = undefined;
    }, (err: Error) => abort.signal.aborted || setError(err.message));
    tailing.catch((err: Error) => abort.signal.aborted || (setTail("stopped"), setError(`the tail stopped: ${err.message}`)));
    if (!follow) setTail("off");
    return () => abort.abort();
  }, [filter, follow]);

  // Kept scrolled to the end while the reader is there; left alone when they scrolled up.
  useLayoutEffect(() => {
    const el = box.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  }, [lines]);

  return (
    <section class="logs-page">
      <h1>Logs <span class="muted small">the head node's log</span></h1>
      <div class="toolbar">
        <label>Filter{" "}
          <input name="filter" type="search" placeholder="text in the line" value={typed} onInput={(e) => setTyped(e.currentTarget.value)} />
        </label>
        <label class="check">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)} /> Follow
        </label>
        <span class={`tail ${tail}`}>{tail === "following" ? "live" : tail === "stopped" ? "tail stopped" : "paused"}</span>
        <span class="muted small">{lines ? `${lines.length.toLocaleString("en-US")} lines` : ""}</span>
      </div>
      {error && <p class="error-text">{error}</p>}
      <pre class="log big" ref={box} aria-label="Log" onScroll={(e) => {
        const el = e.currentTarget;
        pinned.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 8;
      }}>{lines === undefined ? "Loading…" : lines.length === 0 ? (note ? `No log here: ${note}.` : filter ? "No line holds that text." : "Nothing logged yet.") : lines.join("\n")}</pre>
    </section>
  );
}

/** Reads the tail's streamed text, handing over whole lines, until it ends or `signal` aborts. */
async function followTail(signal: AbortSignal, onLines: (lines: string[]) => void, onState: (s: Tail) => void): Promise<void> {
  const res = await fetch("/api/v0/logs/node/tail", { signal });
  if (!res.ok || !res.body) throw new Error(`${res.status} ${res.statusText}`);
  onState("following");
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let partial = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    const parts = (partial + value).split("\n");
    partial = parts.pop()!;
    onLines(parts);
  }
  onState("stopped");
}
