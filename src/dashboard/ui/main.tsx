// The dashboard's page: a header with the cluster's address and whether the head answers, the
// navigation, and the page the address's hash names (#/tasks?state=FAILED).
import { render, type FunctionComponent } from "preact";
import { useEffect, useState } from "preact/hooks";
import { getJson, useConnection, usePoll } from "./api";
import { ago } from "./format";
import { ActorsPage } from "./pages/actors";
import { JobsPage } from "./pages/jobs";
import { LogsPage } from "./pages/logs";
import { NodesPage } from "./pages/nodes";
import { ObjectsPage } from "./pages/objects";
import { OverviewPage } from "./pages/overview";
import { ServePage } from "./pages/serve";
import { TasksPage } from "./pages/tasks";
import type { ClusterInfo } from "./types";
import "./style.css";

const PAGES: { path: string; title: string; view: FunctionComponent<{ params: URLSearchParams }> }[] = [
  { path: "overview", title: "Overview", view: OverviewPage },
  { path: "nodes", title: "Nodes", view: NodesPage },
  { path: "jobs", title: "Jobs", view: JobsPage },
  { path: "actors", title: "Actors", view: ActorsPage },
  { path: "tasks", title: "Tasks", view: TasksPage },
  { path: "objects", title: "Objects", view: ObjectsPage },
  { path: "logs", title: "Logs", view: LogsPage },
  { path: "serve", title: "Serve", view: ServePage },
];

function currentRoute() {
  const [path, query = ""] = location.hash.replace(/^#\/?/, "").split("?");
  return { page: PAGES.find((p) => p.path === path) ?? PAGES[0], params: new URLSearchParams(query) };
}

function App() {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const onHash = () => setRoute(currentRoute());
    addEventListener("hashchange", onHash);
    return () => removeEventListener("hashchange", onHash);
  }, []);
  useEffect(() => void (document.title = `${route.page.title} · tsray`), [route.page]);
  const Page = route.page.view;
  return (
    <>
      <Header />
      <nav class="tabs" aria-label="Pages">
        {PAGES.map((p) => (
          <a href={`#/${p.path}`} class={p === route.page ? "active" : ""} aria-current={p === route.page ? "page" : undefined}>{p.title}</a>
        ))}
      </nav>
      <main>
        {/* Keyed by page: a page's filters start anew when it is opened again. */}
        <Page key={route.page.path} params={route.params} />
      </main>
    </>
  );
}

function Header() {
  const info = usePoll((signal) => getJson<ClusterInfo>("/api/v0/cluster", signal), "cluster").data;
  const { lastOk, error } = useConnection();
  // Redrawn each second, so "updated 3s ago" counts.
  const [, tick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(t);
  }, []);
  const stale = error !== undefined || (lastOk > 0 && Date.now() - lastOk > 10_000);
  return (
    <header class="top">
      <a class="brand" href="#/overview"><span class="logo" aria-hidden="true">◆</span> tsray</a>
      <span class="cluster">
        cluster <code>{info?.address ?? "…"}</code>
        {info && <span class="muted"> · head {info.head_node_id.slice(0, 8)} · v{info.version}</span>}
      </span>
      <span class={`live ${stale ? "down" : lastOk ? "up" : ""}`} title={error ?? ""}>
        <span class="dot" aria-hidden="true" />
        {stale ? `head not answering${error ? `: ${error}` : ""}` : lastOk ? `live · updated ${ago(lastOk)}` : "connecting…"}
      </span>
    </header>
  );
}

render(<App />, document.getElementById("app")!);
