// The embedded cluster's dashboard (in the driver's process) answers /api/serve/applications with
// the driver's own Serve: not running, then serve.status() of a running application. The Serve
// page itself, and the route on a head started with the CLI, are test/dashboard/serve-page.test.ts.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as ray from "tsray";
import * as serve from "tsray/serve";

let dashboardUrl = "";

before(async () => {
  ({ dashboardUrl = "" } = await ray.init({ numCpus: 4, dashboardPort: 0, logToDriver: false }));
});

after(async () => {
  await serve.shutdown();
  await ray.shutdown();
});

class Echo {
  fetch() {
    return "echo";
  }
}

async function serveJson(): Promise<Record<string, any>> {
  const res = await fetch(`${dashboardUrl}/api/serve/applications`);
  assert.equal(res.status, 200);
  return (await res.json()) as Record<string, any>;
}

test("/api/serve/applications: not running, then the running application as serve.status() says", async () => {
  assert.match(dashboardUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.deepEqual(await serveJson(), { running: false, proxies: {}, applications: {} });
  await serve.start({ http: { port: 0 } });
  await serve.run(serve.deployment(Echo).bind(), { name: "echo", routePrefix: "/echo" });
  const got = await serveJson();
  const { proxies, applications } = await serve.status();
  assert.equal(got.running, true);
  assert.deepEqual(got.proxies, proxies);
  assert.deepEqual(got.applications, applications);
  assert.equal(got.applications.echo.deployments.Echo.replicas[0].state, "RUNNING");
  assert.equal((await fetch(`${dashboardUrl}/api/serve/applications`, { method: "POST" })).status, 401, "a POST needs the token, and changes nothing");
});
