// The dashboard's Serve page and its JSON route (/api/serve/applications), against a head started
// with the CLI, which reads Serve's status as a driver of its own cluster, and a Serve driver in
// another process (test/fixtures/serve/serve-driver.ts) that starts Serve and deploys an
// application: before, the route and the page say Serve is not running; after, the page (open
// all along, in a real headless Chromium) shows the application, its deployment and its replicas'
// states, pids and node. The browser logs no error. A screenshot goes to .scratch/shots/serve.png.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { clusterFolder, type Session } from "../helpers/cluster.js";
import { startServeDriver, type ServeDriver } from "../helpers/serve-driver.js";

const CHROMIUM = "/usr/bin/chromium";
/** `.ci/run` installs Chromium and sets this: there, a machine without it is a failure, not a skip. */
const required = process.env.TSRAY_TEST_CHROMIUM === "required";
const noChromium = !existsSync(CHROMIUM) && !required ? `${CHROMIUM} is not installed (Debian: apt-get install chromium; .ci/run installs it)` : false;

const shots = fileURLToPath(new URL("../../.scratch/shots/", import.meta.url));
const { tmp, env, tsray, sessionDirs } = clusterFolder();

let head: Session & { dashboardUrl: string };
let driver: ServeDriver;
let browser: Browser | undefined;
let page: Page;
const consoleErrors: string[] = [];

interface ServeJson {
  running: boolean;
  proxies: Record<string, string>;
  applications: Record<string, {
    status: string;
    routePrefix: string | null;
    deployments: Record<string, { status: string; targetNumReplicas: number; replicas: { replicaId: string; state: string; nodeId: string; pid: number }[] }>;
  }>;
}

before(async () => {
  const started = await tsray("start", "--head", "--port", "0", "--num-cpus", "4", "--dashboard-port", "0");
  assert.equal(started.code, 0, started.stderr);
  head = JSON.parse(readFileSync(path.join(tmp, sessionDirs()[0]!, "node.json"), "utf8")) as typeof head;
  driver = await startServeDriver(env);
  if (noChromium) return;
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is not installed, and TSRAY_TEST_CHROMIUM=required`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(30_000);
  page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
  page.on("pageerror", (e) => consoleErrors.push(e.message));
  mkdirSync(shots, { recursive: true });
  await page.goto(head.dashboardUrl);
});

after(async () => {
  await browser?.close();
  await driver?.close();
  await tsray("stop", "--force");
  rmSync(tmp, { recursive: true, force: true });
});

async function serveJson(): Promise<ServeJson> {
  const res = await fetch(`${head.dashboardUrl}/api/serve/applications`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type")!, /^application\/json/);
  return (await res.json()) as ServeJson;
}

test("before Serve starts: the route says it is not running, and so does the Serve page", async (t) => {
  assert.deepEqual(await serveJson(), { running: false, proxies: {}, applications: {} });
  if (noChromium) return t.skip(noChromium);
  await page.locator("nav a", { hasText: "Serve" }).click();
  await page.locator("main h1", { hasText: "Serve" }).waitFor();
  await page.locator("main", { hasText: "Serve is not running on this cluster" }).waitFor();
});

test("a running application: the route gives serve.status(); the open page follows, showing its deployment and replicas", async (t) => {
  await driver.call("start", { http: { port: 0 } });
  await driver.call("run", "shop", "Cart", "/shop", { numReplicas: 2 });
  const st = await serveJson();
  assert.equal(st.running, true);
  assert.deepEqual(st.proxies, { [head.nodeId]: "HEALTHY" });
  const app = st.applications.shop!;
  assert.equal(app.status, "RUNNING");
  assert.equal(app.routePrefix, "/shop");
  const cart = app.deployments.Cart!;
  assert.equal(cart.status, "HEALTHY");
  assert.equal(cart.targetNumReplicas, 2);
  assert.deepEqual(cart.replicas.map((r) => [r.state, r.nodeId]), [["RUNNING", head.nodeId], ["RUNNING", head.nodeId]]);
  assert.ok(cart.replicas.every((r) => r.pid > 0));
  if (noChromium) return t.skip(noChromium);

  // The page was opened before Serve ran: it polls, and shows the app without a reload.
  const panel = page.getByRole("article", { name: "Application shop" });
  await panel.waitFor();
  await panel.locator(".serve-app-title .badge", { hasText: "RUNNING" }).waitFor();
  await panel.locator(".serve-app-title code", { hasText: "/shop" }).waitFor();
  const deployments = page.getByRole("table", { name: "Deployments of shop" });
  const row = deployments.locator("tbody tr", { hasText: "Cart" });
  await row.locator(".badge", { hasText: "HEALTHY" }).waitFor();
  assert.deepEqual((await row.locator("td").allTextContents()).slice(2, 4), ["2", "2"]);
  const replicas = page.getByRole("table", { name: "Replicas of shop" });
  for (const r of cart.replicas) {
    const line = replicas.locator("tbody tr", { hasText: r.replicaId });
    await line.locator(".badge", { hasText: "RUNNING" }).waitFor();
    const cells = await line.locator("td").allTextContents();
    assert.equal(cells[4], String(r.pid), "the replica's pid");
  }
  const proxies = page.getByRole("table", { name: "Proxies" });
  await proxies.locator(`[title="${head.nodeId}"]`).waitFor();
  await proxies.locator(".badge", { hasText: "HEALTHY" }).waitFor();
  await page.screenshot({ path: path.join(shots, "serve.png"), fullPage: true });
  assert.deepEqual(consoleErrors, []);
});
