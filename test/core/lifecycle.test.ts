import { test } from "node:test";
import assert from "node:assert/strict";
import * as ray from "tsray";
import { progressBarsEnabled } from "../../src/api/lifecycle.js";

const readEnv = ray.remote(function readEnv(name: string) {
  return process.env[name];
});

test("the API before init throws a RayError that says to call init", async () => {
  assert.equal(ray.isInitialized(), false);
  assert.throws(() => ray.put(1), (e: unknown) => e instanceof ray.RayError && /ray\.init\(\)/.test((e as Error).message));
  assert.throws(() => readEnv.remote("X"), ray.RayError);
});

test("init, reinit rules, shutdown, init again", async () => {
  const info = await ray.init({ numCpus: 1, namespace: "lifecycle" });
  assert.equal(ray.isInitialized(), true);
  assert.equal(info.namespace, "lifecycle");
  assert.match(info.nodeId, /^[0-9a-f]+$/);
  await assert.rejects(ray.init(), /init\(\) was called twice/);
  assert.deepEqual(await ray.init({ ignoreReinitError: true }), info);
  assert.equal(ray.getRuntimeContext().namespace, "lifecycle");
  await ray.shutdown();
  assert.equal(ray.isInitialized(), false);
  await ray.init({ numCpus: 1 });
  assert.equal(await ray.get(ray.put("again")), "again");
  await ray.shutdown();
});

test("bad init options are errors naming the option", async () => {
  await assert.rejects(ray.init({ numCpu: 2 } as never), /unknown option 'numCpu'/);
  await assert.rejects(ray.init({ numCpus: -1 }), RangeError);
  await assert.rejects(ray.init({ resources: { CPU: 4 } }), /use numCpus/);
  await assert.rejects(ray.init({ objectStoreMemory: 10 }), /objectStoreMemory/);
  await assert.rejects(ray.init({ runtimeEnv: { env: { A: 1 } } } as never), /runtimeEnv\.env\.A must be a string/);
  await assert.rejects(ray.init({ progressBars: "yes" } as never), { name: "TypeError", message: 'init() option progressBars must be a boolean, got the string "yes"' });
  await assert.rejects(ray.init({ address: "no-port-here", token: "t" }), /init\(\) option address must be HOST:PORT/);
  await assert.rejects(ray.init({ address: "127.0.0.1:6380", numCpus: 2 }), /option numCpus is for a cluster started here/);
  await assert.rejects(ray.init({ runtimeEnv: { workingDir: "/nonexistent/tsray" } }), /init\(\) option runtimeEnv.workingDir must be an existing folder/);
  await assert.rejects(ray.init({ dashboardPort: 70000 }), /init\(\) option dashboardPort/);
  await assert.rejects(ray.init({ dashboardHost: "203.0.113.7" }), /init\(\) options dashboardHost and dashboardPort: cannot serve the dashboard at 203\.0\.113\.7:8265/);
  await assert.rejects(ray.init({ address: "127.0.0.1:6380", includeDashboard: false }), /option includeDashboard is for a cluster started here/);
  await assert.rejects(ray.init({ token: "secret" }), /option token is for connecting to a running cluster: pass it with init\(\{ address \}\)/);
  assert.equal(ray.isInitialized(), false);
});

test("init serves the dashboard's port: the state API and metrics of this embedded cluster; includeDashboard: false serves none", async () => {
  const { dashboardUrl } = await ray.init({ numCpus: 1, dashboardPort: 0 });
  try {
    assert.match(dashboardUrl!, /^http:\/\/127\.0\.0\.1:\d+$/);
    const boom = ray.remote(function boom() {
      throw new Error("listed");
    });
    await assert.rejects(ray.get(boom.options({ maxRetries: 0 }).remote()));
    const tasks = (await (await fetch(`${dashboardUrl}/api/v0/tasks?filter_keys=name&filter_values=boom`)).json()) as { data: { result: { result: { state: string; error_message: string }[] } } };
    assert.equal(tasks.data.result.result[0].state, "FAILED");
    assert.match(tasks.data.result.result[0].error_message, /listed/);
    assert.match(await (await fetch(`${dashboardUrl}/metrics`)).text(), /^tsray_tasks_total\{state="FAILED"\} 1$/m);
    const page = await fetch(`${dashboardUrl}/`);
    assert.equal(page.status, 200, "the pages are served");
    assert.match(await page.text(), /<title>[^<]*tsray/);
    const logs = (await (await fetch(`${dashboardUrl}/api/v0/logs/node`)).json()) as { lines: string[]; note: string };
    assert.deepEqual(logs.lines, []);
    assert.match(logs.note, /print to that program's output/);
  } finally {
    await ray.shutdown();
  }
  await assert.rejects(fetch(`${dashboardUrl}/metrics`), "the port closes with shutdown()");
  assert.equal((await ray.init({ numCpus: 1, includeDashboard: false })).dashboardUrl, undefined);
  await ray.shutdown();
});

test("init's progressBars holds for the driver's lifetime, until shutdown", async () => {
  assert.equal(progressBarsEnabled(), false, "no driver yet");
  await ray.init({ numCpus: 1, progressBars: false });
  assert.equal(progressBarsEnabled(), false);
  await ray.init({ ignoreReinitError: true, progressBars: true }); // the running driver's options stay
  assert.equal(progressBarsEnabled(), false);
  await ray.shutdown();
  await ray.init({ numCpus: 1 });
  assert.equal(progressBarsEnabled(), true, "the default");
  await ray.shutdown();
  assert.equal(progressBarsEnabled(), false);
});

test("runtimeEnv.env reaches workers, job-wide and per task; numGpus and custom resources are the node's", async () => {
  await ray.init({ numCpus: 1, numGpus: 2, resources: { tpu_like: 4 }, runtimeEnv: { env: { TSRAY_JOB_VAR: "job" } } });
  try {
    const total = await ray.clusterResources();
    assert.equal(total.CPU, 1);
    assert.equal(total.GPU, 2);
    assert.equal(total.tpu_like, 4);
    assert.equal(await ray.get(readEnv.remote("TSRAY_JOB_VAR")), "job");
    const withTaskEnv = readEnv.options({ runtimeEnv: { env: { TSRAY_TASK_VAR: "task" } } });
    assert.equal(await ray.get(withTaskEnv.remote("TSRAY_TASK_VAR")), "task");
    assert.equal(await ray.get(readEnv.remote("TSRAY_TASK_VAR")), undefined);
  } finally {
    await ray.shutdown();
  }
});

test("shutdown leaves no handle of the runtime behind", async () => {
  const before = new Set(process.getActiveResourcesInfo());
  await ray.init({ numCpus: 2 });
  const Holder = ray.remote(
    class Holder {
      ping() {
        return "pong";
      }
    },
  );
  const h = Holder.remote();
  assert.equal(await ray.get(h.ping.remote()), "pong");
  assert.equal(await ray.get(readEnv.remote("HOME")), process.env.HOME);
  await ray.shutdown();
  const left = process.getActiveResourcesInfo().filter((r) => !before.has(r));
  assert.deepEqual(left, []);
});

test("shutdown settles every call still waiting, with a RayError that says so", async () => {
  await ray.init({ numCpus: 2 });
  const forever = ray.remote(async function forever() {
    await new Promise(() => {});
  });
  const Stuck = ray.remote(
    class Stuck {
      async hang() {
        await new Promise(() => {});
      }
    },
  );
  const silent = ray.remote(async function* silent() {
    await new Promise(() => {});
    yield 1;
  }).options({ numReturns: "streaming" });
  const ref = forever.remote();
  const waiting = [
    ray.get(ref),
    ray.get([ray.put(1), ref]),
    ray.wait([ref]),
    ray.get(Stuck.remote().hang.remote()),
    silent.remote().next(),
    ray.util.placementGroup([{ CPU: 64 }]).ready(),
  ];
  const settled = Promise.allSettled(waiting);
  await ray.shutdown();
  const outcomes = await settled;
  outcomes.forEach((o, i) => {
    assert.equal(o.status, "rejected", `call ${i} was not rejected`);
    const reason = (o as PromiseRejectedResult).reason as Error;
    assert.ok(reason instanceof ray.RayError, `call ${i}: ${reason}`);
    assert.match(reason.message, /tsray was shut down while this call was waiting/);
  });
});
