// tsray Serve: its proxies by node, and each application (status, route prefix, why it is not
// running) with its deployments (status, target and actual replicas) and their replicas (state,
// node, pid, version), as serve.status() says; or that Serve is not running.
import { getJson, usePoll } from "../api";
import { Badge } from "../components/badge";
import { Id } from "../components/id";
import { Table, type Column } from "../components/table";
import type { ServeApplication, ServeDeployment, ServeReplica, ServeStatus } from "../types";

type DeploymentRow = ServeDeployment & { name: string };
type ReplicaRow = ServeReplica & { deployment: string };

const deploymentColumns: Column<DeploymentRow>[] = [
  { title: "Deployment", cell: (d) => <strong>{d.name}</strong> },
  { title: "Status", cell: (d) => <Badge state={d.status} /> },
  { title: "Target replicas", cell: (d) => d.targetNumReplicas, className: "num" },
  { title: "Replicas", cell: (d) => d.replicas.length, className: "num" },
  { title: "Message", cell: (d) => message(d.message), className: "wide" },
];

const replicaColumns: Column<ReplicaRow>[] = [
  { title: "Deployment", cell: (r) => r.deployment },
  { title: "Replica", cell: (r) => <code title={r.actorName}>{r.replicaId}</code> },
  { title: "State", cell: (r) => <Badge state={r.state} /> },
  { title: "Node", cell: (r) => <Id id={r.nodeId} /> },
  { title: "Pid", cell: (r) => r.pid || <span class="muted">–</span>, className: "num" },
  { title: "Version", cell: (r) => <code>{r.version}</code> },
];

const proxyColumns: Column<[string, string]>[] = [
  { title: "Node", cell: ([node]) => <Id id={node} /> },
  { title: "Status", cell: ([, status]) => <Badge state={status} /> },
];

function message(text: string) {
  return text ? <span class={/fail|died|error/i.test(text) ? "error-text" : ""}>{text}</span> : <span class="muted">–</span>;
}

function Application(props: { name: string; app: ServeApplication }) {
  const { name, app } = props;
  const deployments = Object.entries(app.deployments).map(([n, d]) => ({ ...d, name: n }));
  const replicas = deployments.flatMap((d) => d.replicas.map((r) => ({ ...r, deployment: d.name })));
  return (
    <article class="panel serve-app" data-app={name} aria-label={`Application ${name}`}>
      <h2 class="serve-app-title">
        {name} <Badge state={app.status} />
        <span class="muted small">route {app.routePrefix === null ? "none (handles only)" : <code>{app.routePrefix}</code>}</span>
      </h2>
      {app.message && <p class="error-text">{app.message}</p>}
      <Table label={`Deployments of ${name}`} columns={deploymentColumns} rows={deployments} rowKey={(d) => d.name} empty="No deployments." />
      <h2>Replicas <span class="count">{replicas.length}</span></h2>
      <Table label={`Replicas of ${name}`} columns={replicaColumns} rows={replicas} rowKey={(r) => r.replicaId} empty="No replicas." />
    </article>
  );
}

export function ServePage() {
  const polled = usePoll((signal) => getJson<ServeStatus>("/api/serve/applications", signal), "serve");
  const status = polled.data;
  if (status === undefined) {
    return <section><h1>Serve</h1><p class="muted">{polled.error ? `Serve's status cannot be read: ${polled.error}` : "Loading…"}</p></section>;
  }
  if (!status.running) {
    return (
      <section>
        <h1>Serve</h1>
        <p class="panel serve-off">Serve is not running on this cluster. <span class="muted">A driver starts it with <code>serve.start()</code> or <code>serve.run()</code>.</span></p>
      </section>
    );
  }
  const apps = Object.entries(status.applications);
  return (
    <section>
      <h1>Serve <span class="count">{apps.length} application{apps.length === 1 ? "" : "s"}</span></h1>
      {polled.error && <p class="error-text">Last update failed: {polled.error}</p>}
      <h2>Proxies <span class="count">{Object.keys(status.proxies).length}</span></h2>
      <Table label="Proxies" columns={proxyColumns} rows={Object.entries(status.proxies)} rowKey={([node]) => node} empty="No proxies (HTTP disabled)." />
      <h2>Applications</h2>
      {apps.length === 0 ? <p class="muted">No applications.</p> : apps.map(([name, app]) => <Application key={name} name={name} app={app} />)}
    </section>
  );
}
