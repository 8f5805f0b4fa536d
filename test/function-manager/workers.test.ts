/**
 * End-to-end: fixture driver scripts describe callables, run them in real worker threads and
 * report. One driver is TypeScript under tsx (tsray from source), the other plain JavaScript
 * under plain node (tsray's function manager compiled to JavaScript first, as in dist/).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { buildSync } from "esbuild";
import type { FunctionDescriptor } from "../../src/core-worker/function-manager/descriptor.js";
import type { JobResult } from "./fixtures/harness.mjs";

const run = promisify(execFile);
const repo = fileURLToPath(new URL("../../", import.meta.url));
const fixtures = join(repo, "test/function-manager/fixtures");
const sourceDir = join(repo, "src/core-worker/function-manager");

interface Report {
  tsx: boolean;
  here: string;
  nonMainHere: string;
  expected: { crypto: string; importMeta: string; nested: { caller: string; ids: string[] } };
  descriptors: Record<string, FunctionDescriptor>;
  describeErrors: Record<string, { name: string; message: string }>;
  results: Record<string, JobResult>;
}

// Scratch space inside the repo (tmp/ is git-ignored) so the build resolves acorn and esbuild
// from the repo's node_modules.
let scratch: string;
let builtUrl: string;

before(() => {
  mkdirSync(join(repo, "tmp"), { recursive: true });
  scratch = mkdtempSync(join(repo, "tmp", "function-manager-test-"));
  const out = join(scratch, "dist/core-worker/function-manager");
  const files = readdirSync(sourceDir);
  buildSync({
    entryPoints: files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")).map((f) => join(sourceDir, f)),
    outdir: out,
    format: "esm",
    platform: "node",
    target: "node20",
    logLevel: "error",
  });
  for (const f of files.filter((f) => f.endsWith(".mjs"))) copyFileSync(join(sourceDir, f), join(out, f));
  builtUrl = `${pathToFileURL(out).href}/`;
});

after(() => rmSync(scratch, { recursive: true, force: true }));

async function runDriver(args: string[], counter: string): Promise<Report> {
  const { stdout } = await run(process.execPath, args, {
    cwd: repo,
    env: { ...process.env, NODE_OPTIONS: "", TSRAY_FM_URL: builtUrl, TSRAY_FM_COUNTER: counter },
    timeout: 30_000,
  });
  const line = stdout.split("\n").find((l) => l.startsWith("RESULT "));
  assert.ok(line, `driver printed no RESULT line:\n${stdout}`);
  return JSON.parse(line.slice("RESULT ".length)) as Report;
}

function value(report: Report, name: string): unknown {
  const result = report.results[name];
  assert.ok(result, `no result for ${name}`);
  assert.ok(result.ok, `${name} failed in the worker: ${!result.ok ? `${result.error.name}: ${result.error.message}` : ""}`);
  return result.value;
}

function failure(report: Report, name: string): { name: string; message: string; where?: string } {
  const result = report.results[name];
  assert.ok(result && !result.ok, `${name} should have failed in the worker`);
  return result.error;
}

const drivers = [
  { title: "TypeScript driver under tsx", file: "driver.ts", args: ["--conditions=tsray-source", "--import", "tsx"], tsx: true, lib: "lib.ts", nonMain: "non-main.ts" },
  { title: "plain JavaScript driver under node", file: "driver.mjs", args: [], tsx: false, lib: "lib.mjs", nonMain: "non-main.mjs" },
];

for (const driver of drivers) {
  describe(driver.title, () => {
    let report: Report;
    let counter: string;

    before(async () => {
      counter = join(scratch, `${driver.file}.count`);
      report = await runDriver([...driver.args, join(fixtures, driver.file)], counter);
    });

    test("detects whether the driver runs under tsx", () => {
      assert.equal(report.tsx, driver.tsx);
    });

    test("callerModuleUrl names the calling module", () => {
      assert.equal(report.here, pathToFileURL(join(fixtures, driver.file)).href);
      assert.equal(report.nonMainHere, pathToFileURL(join(fixtures, driver.nonMain)).href);
    });

    test("the driver script's top level runs once, never in the worker", () => {
      assert.equal(readFileSync(counter, "utf8"), `${driver.file}\n`);
    });

    test("driver functions ship by source, with the imports they use", () => {
      for (const name of ["crypto", "relativeImport", "bareImport", "helperAndConsts", "exportedFromDriver"]) {
        const desc = report.descriptors[name]!;
        assert.equal(desc.kind, "source", name);
        if (desc.kind === "source") {
          assert.equal(desc.scopeUrl, report.here);
          assert.doesNotMatch(desc.code, /from "\.\/driver\.(ts|mjs)"/);
        }
      }
      assert.equal(value(report, "crypto"), report.expected.crypto);
      assert.equal(value(report, "relativeImport"), "hello ts");
      assert.equal(value(report, "bareImport"), 3);
      assert.equal(value(report, "exportedFromDriver"), 101);
    });

    test("top-level helpers and constants come along", () => {
      assert.deepEqual(value(report, "helperAndConsts"), [16, "fast,slow", 2]);
    });

    test("classes, subclasses, async functions and generators", () => {
      assert.deepEqual(value(report, "class"), [1, 6]);
      assert.deepEqual(value(report, "subclass"), ["base+special"]);
      assert.equal(value(report, "async"), 5);
      assert.deepEqual(value(report, "generator"), [1, 2, 3]);
      assert.deepEqual(value(report, "asyncGenerator"), [10, 20]);
    });

    test("arrows and method shorthand keep their names", () => {
      assert.equal(value(report, "arrow"), 42);
      assert.equal(report.results.arrow?.ok && report.results.arrow.name, "arrowTask");
      assert.equal(value(report, "method"), "HEY!");
      assert.deepEqual(value(report, "name"), ["arrowTask", "shout"]);
    });

    test("import.meta inside a shipped function is the scope module's", () => {
      assert.equal(value(report, "importMeta"), report.expected.importMeta);
    });

    test("a function imported from another module travels as that module's export", () => {
      assert.deepEqual(report.descriptors.importedFunction, {
        ...report.descriptors.importedFunction,
        kind: "module-export",
        moduleUrl: pathToFileURL(join(fixtures, driver.lib)).href,
        exportName: "double",
      });
      assert.equal(value(report, "importedFunction"), 42);
    });

    test("a non-main module's exports travel by module, the rest by source", () => {
      const moduleUrl = pathToFileURL(join(fixtures, driver.nonMain)).href;
      assert.equal(report.descriptors["nonMain.triple"]?.kind, "module-export");
      assert.equal(value(report, "nonMain.triple"), 15);
      const hidden = report.descriptors["nonMain.hidden"]!;
      assert.equal(hidden.kind === "source" && hidden.scopeUrl, moduleUrl);
      assert.equal(value(report, "nonMain.hidden"), "hello x (hidden)");
    });

    test("an exported wrapper carrying Symbol.for('tsray.callable') yields the raw callable", () => {
      assert.equal(report.descriptors["nonMain.wrapped"]?.kind, "module-export");
      assert.equal(value(report, "nonMain.wrapped"), 9);
    });

    test("what cannot be shipped fails with a ReferenceError naming it", () => {
      const closure = failure(report, "closure");
      assert.deepEqual([closure.name, closure.message], ["ReferenceError", "factor is not defined"]);
      // Withheld: never a global of the same name or undefined (the task executor explains it further).
      const unshippable = failure(report, "unshippableConst");
      assert.deepEqual([unshippable.name, unshippable.message], ["ReferenceError", "Cannot access 'data' before initialization"]);
    });

    test("stack frames in shipped code name the function and its module, not the data: URL", () => {
      assert.match(failure(report, "closure").where ?? "", new RegExp(`^at scale \\(tsray:scale@${report.here}:\\d+:\\d+\\)$`));
    });

    test("native and bound functions are refused with a TypeError naming them", () => {
      assert.equal(report.describeErrors.native?.name, "TypeError");
      assert.match(report.describeErrors.native?.message ?? "", /"max"/);
      assert.equal(report.describeErrors.bound?.name, "TypeError");
      assert.match(report.describeErrors.bound?.message ?? "", /"bound helper"/);
    });

    test("describing inside a worker maps back to the driver and gives the same id", () => {
      assert.deepEqual(value(report, "nested"), report.expected.nested);
    });
  });
}
