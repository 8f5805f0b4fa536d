// The dashboard's pages in a real headless Chromium, against a head started with the CLI and a
// driver in another process (test/fixtures/cluster/dashboard-driver.ts) that ran tasks, one
// failed, one printed, and keeps an actor alive: each page is reached by clicking its link,
// shows what the driver did, and follows new work by itself; the browser logs no error and asks
// nothing of another origin. Screenshots of each page go to .scratch/shots/ (not committed).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { clusterFolder, DRIVER_ARGS, type Session } from "../helpers/cluster.js";

const CHROMIUM = "/usr/bin/chromium";
/** `.ci/run` installs Chromium and sets this: there, a machine without it is a failure, not a skip. */
const required = process.env.TSRAY_TEST_CHROMIUM === "required";
const skip = !existsSync(CHROMIUM) && !required ? `${CHROMIUM} is not installed (Debian: apt-get install chromium; .ci/run installs it)` : false;

const fixture = fileURLToPath(new URL("../fixtures/cluster/dashboard-driver.ts", import.meta.url));
const shots = fileURLToPath(new URL("../../.scratch/shots/", import.meta.url));
const { tmp, env, tsray, sessionDirs } = clusterFolder();

let head: Session & { dashboardUrl: string };
let driver: ChildProcessWithoutNullStreams;
let browser: Browser;
let page: Page;
/** What the browser said went wrong, and what it asked of anyone but the dashboard. */
const consoleErrors: string[] = [];
const foreignRequests: string[] = [];

/** The driver's next JSON line (one per step it took). */
const driverLines: string[] = [];
let lineWaiter: (() => void) | undefined;
async function nextDriverLine(): Promise<Record<string, unknown>> {
  while (driverLines.length === 0) await new Promise<void>((resolve) => (lineWaiter = resolve));
  return JSON.parse(driverLines.shift()!) as Record<string, unknown>;
}

before(async () => {
  if (skip) return;
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is not installed, and TSRAY_TEST_CHROMIUM=required`);
  const started = await tsray("start", "--head", "--port", "0", "--num-cpus", "2", "--dashboard-port", "0");
  assert.equal(started.code, 0, started.stderr);
  head = JSON.parse(readFileSync(path.join(tmp, sessionDirs()[0], "node.json"), "utf8")) as typeof head;
  assert.match(head.dashboardUrl, /^http:\/\/127\.0\.0\.1:\d+$/);

  driver = spawn(process.execPath, [...DRIVER_ARGS, fixture], { env, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  driver.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  let partial = "";
  driver.stdout.on("data", (d: Buffer) => {
    const parts = (partial + d.toString()).split("\n");
    partial = parts.pop()!;
    driverLines.push(...parts.filter((l) => l.startsWith("{")));
    lineWaiter?.();
  });
  driver.once("exit", (code) => code && console.error(`the driver exited with code ${code}: ${stderr}`));
  const ready = await nextDriverLine();
  assert.deepEqual([ready.ready, ready.failed], [true, "RayTaskError"], stderr);

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(20_000);
  const origin = new URL(head.dashboardUrl).origin;
  page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
  page.on("pageerror", (e) => consoleErrors.push(e.message));
  page.on("request", (r) => {
    const url = r.url();
    if (!url.startsWith(`${origin}/`) && !url.startsWith("data:")) foreignRequests.push(url);
  });
  mkdirSync(shots, { recursive: true });
  await page.goto(head.dashboardUrl);
});

after(async () => {
  await browser?.close();
  if (driver && driver.exitCode === null) {
    driver.stdin.end("exit\n");
    await new Promise((resolve) => driver.once("exit", resolve));
  }
  if (!skip) await tsray("stop", "--force");
  rmSync(tmp, { recursive: true, force: true });
});

/** The page's globals that the functions run in it read (this file is typed without the DOM's names). */
type PageGlobals = { document: { title: string; querySelector(selector: string): { textContent: string | null } | null } };

// Functions run in the page, not strings of code: the dashboard's CSP forbids eval, which strings need.
function untilTitleHas(text: string) {
  return page.waitForFunction((t) => (globalThis as unknown as PageGlobals).document.title.includes(t), text);
}

/** Until the number an element shows ("1,234") is at least `n`. */
function untilNumberAtLeast(selector: string, n: number) {
  return page.waitForFunction(
    ([sel, min]) => Number((globalThis as unknown as PageGlobals).document.querySelector(sel)?.textContent?.replace(/,/g, "")) >= min,
    [selector, n] as const,
  );
}

/** Follows the navigation's link to `name` by clicking it, and waits for its page. */
async function open(name: string): Promise<void> {
  await page.locator("nav a", { hasText: name }).click();
  await page.locator("main h1", { hasText: name }).waitFor();
  await untilTitleHas(`${name} · tsray`);
}

async function shoot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}

/** What a driver's command did (`more 5`, `say TEXT`). */
async function command(line: string): Promise<void> {
  driver.stdin.write(`${line}\n`);
  await nextDriverLine();
}

test("every page is a real link of the navigation, and the title says tsray", { skip }, async () => {
  assert.match(await page.title(), /tsray/);
  const links = await page.locator("nav a").evaluateAll((as) => as.map((a) => [a.textContent, a.getAttribute("href")]));
  assert.deepEqual(links.map(([text]) => text), ["Overview", "Nodes", "Jobs", "Actors", "Tasks", "Objects", "Logs", "Serve"]);
  assert.ok(links.every(([, href]) => href?.startsWith("#/")), JSON.stringify(links));
  await page.locator(".cluster code", { hasText: head.address }).waitFor();
});

test("Overview: the node, the resources, tasks by state in charts", { skip }, async () => {
  await open("Overview");
  await page.locator('[data-card="Nodes"]', { hasText: "1" }).waitFor();
  await page.locator(".meter", { hasText: "CPU" }).waitFor();
  await page.locator('[data-card="Failed tasks"]', { hasText: "1" }).waitFor();
  assert.equal(await page.locator("figure.chart canvas").count(), 2);
  await shoot("overview");
});

test("Nodes: the head, its address, alive, its resources and store, the CPU and memory of it and of each worker", { skip }, async () => {
  await open("Nodes");
  const row = page.locator("tbody tr", { has: page.locator(`[title="${head.nodeId}"]`) });
  await row.waitFor();
  const text = await row.innerText();
  assert.match(text, /ALIVE/);
  assert.match(text, /head/);
  assert.match(text, /127\.0\.0\.1/);
  assert.match(text, /0 \/ 2|1 \/ 2|2 \/ 2/, "CPUs used of 2");
  assert.match(text, /GiB|MiB/, "the object store's size");
  assert.match(text, /\d+% CPU/, "the node's process CPU");
  // Its workers, each with its CPU: the driver's actor runs in one of them.
  await row.locator("details summary").click();
  await row.locator("ul.workers li", { hasText: /\d+% CPU/ }).first().waitFor();
  await shoot("nodes");
});

test("Jobs: the driver's job, running, with its script", { skip }, async () => {
  await open("Jobs");
  const row = page.locator("tbody tr", { hasText: "dashboard-driver.ts" });
  await row.waitFor();
  assert.match(await row.innerText(), /RUNNING/);
  await shoot("jobs");
});

test("Actors: the driver's actor, its class, name, state and node", { skip }, async () => {
  await open("Actors");
  const row = page.locator("tbody tr", { hasText: "Ledger" });
  await row.waitFor();
  const text = await row.innerText();
  assert.match(text, /ledger/);
  assert.match(text, /ALIVE/);
  assert.equal(await row.locator(`[title="${head.nodeId}"]`).count(), 1, "the node it runs on");
  await shoot("actors");
});

test("Tasks: filtered by state FAILED, the failed task's error and its remote stack", { skip }, async () => {
  await open("Tasks");
  await page.locator("tbody tr", { hasText: "square" }).first().waitFor();
  await page.selectOption('select[name="state"]', "FAILED");
  const failed = page.locator("tbody tr", { hasText: "explode" });
  await failed.waitFor();
  await page.locator("tbody tr", { hasText: "square" }).first().waitFor({ state: "detached" });
  assert.equal(await page.locator("tbody tr").count(), 1);
  await failed.locator("summary", { hasText: "dashboard-kaboom-7f3a" }).click();
  const stack = failed.locator("pre.stack");
  await stack.waitFor();
  assert.match(await stack.innerText(), /TypeError: dashboard-kaboom-7f3a\n\s+at explode /);
  await shoot("tasks-failed");

  await page.selectOption('select[name="state"]', "");
  await page.fill('input[name="name"]', "square");
  await page.locator("main .pager", { hasText: "1–3 of 3" }).waitFor();
  assert.deepEqual(new Set(await page.locator("tbody tr td:first-child").allInnerTexts()), new Set(["square"]));
  await shoot("tasks");
});

test("the pages follow new work by themselves, without a reload", { skip }, async () => {
  await open("Overview");
  const finished = page.locator('[data-card="Finished tasks"]');
  await finished.filter({ hasText: /^\d+$/ }).waitFor();
  const before = Number(await finished.innerText());
  await command("more 5");
  await untilNumberAtLeast('[data-card="Finished tasks"]', before + 5);
  await shoot("overview-after-work");

  await open("Tasks");
  const kept = Number((await page.locator("main h1 .count").innerText()).replace(/,/g, ""));
  await command("more 3");
  await untilNumberAtLeast("main h1 .count", kept + 3);
  await page.locator("tbody tr", { hasText: "later" }).first().waitFor();
});

test("Objects: what the head's table holds, with size, owner and reference kind", { skip }, async () => {
  await open("Objects");
  // The 1 MiB array the driver holds.
  const row = page.locator("tbody tr", { hasText: "1.0 MiB" });
  await row.waitFor();
  assert.match(await row.innerText(), /IN MEMORY[\s\S]*local reference/i);
  assert.match(await page.locator("thead").innerText(), /SIZE[\s\S]*OWNER[\s\S]*REFERENCES/i);
  await shoot("objects");
});

test("Logs: the printed line, the filter, and new lines as they are written", { skip }, async () => {
  await open("Logs");
  const log = page.locator("pre.log");
  await log.filter({ hasText: "dashboard-printed-line-42c9" }).waitFor();
  await page.locator(".tail.following").waitFor();
  await command("say dashboard-tailed-line-9e1b");
  await log.filter({ hasText: "dashboard-tailed-line-9e1b" }).waitFor();
  await shoot("logs");
  await page.fill('input[name="filter"]', "tailed-line");
  await log.filter({ hasNotText: "dashboard-printed-line-42c9" }).waitFor();
  assert.match(await log.innerText(), /dashboard-tailed-line-9e1b/);
});

test("the browser logged no error and asked nothing of another origin", { skip }, () => {
  assert.deepEqual(consoleErrors, []);
  assert.deepEqual(foreignRequests, []);
});
