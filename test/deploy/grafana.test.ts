// The Grafana dashboard cannot run here: this reads it and checks that every chart asks for
// series the head's /metrics has (rendered by a real node), from the dashboard's Prometheus.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Gcs } from "../../src/gcs/gcs.js";
import { renderMetrics } from "../../src/metrics/prometheus.js";
import { NODE_JOB } from "../../src/raylet/worker-pool.js";
import { NodeCore } from "../../src/node/node-core.js";

type Panel = { title: string; datasource: { uid: string }; targets: { expr: string; datasource: { uid: string } }[] };
const dashboard = JSON.parse(readFileSync(new URL("../../deploy/grafana/tsray.json", import.meta.url), "utf8")) as {
  title: string; uid: string; panels: Panel[]; templating: { list: { name: string; type: string; query: string }[] };
};

test("every chart of the Grafana dashboard reads series that /metrics serves, from the chosen Prometheus", async () => {
  const gcs = new Gcs();
  const core = new NodeCore({ ip: "127.0.0.1", gcs, defaultJob: NODE_JOB, log: () => {}, numCpus: 1, objectStoreMemory: 2 ** 24 });
  let served: Set<string>;
  try {
    served = new Set(renderMetrics(gcs, core.raylet).split("\n").filter((l) => l.startsWith("# TYPE ")).map((l) => l.split(" ")[2]));
  } finally {
    await core.close();
  }
  assert.ok(dashboard.templating.list.some((v) => v.name === "datasource" && v.type === "datasource" && v.query === "prometheus"));
  const charted = new Set<string>();
  for (const p of dashboard.panels) {
    assert.ok(p.targets.length, `${p.title} charts something`);
    assert.equal(p.datasource.uid, "${datasource}");
    for (const t of p.targets) {
      assert.equal(t.datasource.uid, "${datasource}");
      const names = t.expr.match(/tsray_\w+/g) ?? [];
      assert.ok(names.length, `${p.title}: ${t.expr}`);
      for (const n of names) {
        const family = n.replace(/_(bucket|sum|count)$/, "");
        assert.ok(served.has(family), `${p.title} reads ${n}, which /metrics does not serve`);
        charted.add(family);
      }
    }
  }
  for (const family of ["tsray_tasks_total", "tsray_tasks", "tsray_actors", "tsray_object_store_used_bytes", "tsray_resources_total", "tsray_workers", "tsray_rpc_latency_seconds"]) {
    assert.ok(charted.has(family), `the dashboard charts ${family}`);
  }
});
