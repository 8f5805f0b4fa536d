// tsray as a user gets it: `npm pack` (which builds it), installed into a project of its own
// with the current TypeScript, tsx and @types/node from the registry; a first program there
// type-checks under `tsc --init`'s settings, under the strictest ones (with tsray's declaration
// files checked too), and under a minimal config, and runs from TypeScript and compiled.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const exec = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));
const fixtures = fileURLToPath(new URL("./fixtures", import.meta.url));
const EXPECTED = { namespace: "string", squares: [10, 40, 90], total: 5, bigSum: 300_000, ready: 1, streamed: [0, 1, 2], mapped: [2, 3, 4], failure: "RangeError" };

let project: string;
/** Runs a command in the project; a failure says what the command printed (tsc reports on stdout). */
async function run(cmd: string, args: string[]): Promise<{ stdout: string }> {
  try {
    return await exec(cmd, args, { cwd: project, timeout: 180_000, maxBuffer: 16 * 2 ** 20 });
  } catch (err) {
    const { stdout = "", stderr = "" } = err as { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(" ")} failed:\n${stdout}${stderr}`, { cause: err });
  }
}
const tsc = (...args: string[]) => run(join(project, "node_modules/.bin/tsc"), args);
const writeJson = (name: string, value: unknown) => writeFileSync(join(project, name), JSON.stringify(value, null, 2));

before(async () => {
  project = mkdtempSync(join(tmpdir(), "tsray-user-"));
  const { stdout } = await exec("npm", ["pack", "--pack-destination", project], { cwd: root, timeout: 180_000 });
  const tarball = join(project, stdout.trim().split("\n").pop()!);
  writeJson("package.json", { name: "tsray-user", private: true, type: "module" });
  await run("npm", ["install", "--no-audit", "--no-fund", tarball, "typescript@latest", "tsx@latest", "@types/node@latest"]);
  for (const f of ["main.ts", "dispose.ts", "data.ts"]) copyFileSync(join(fixtures, f), join(project, f));
});
after(() => rmSync(project, { recursive: true, force: true }));

test("the tarball ships built JavaScript and declaration files", async () => {
  const pkg = JSON.parse((await run("node", ["-p", "JSON.stringify(require('./node_modules/tsray/package.json'))"])).stdout);
  assert.equal(pkg.types, "./dist/index.d.ts");
  await run("node", ["-e", "require('fs').accessSync('node_modules/tsray/dist/index.js'); require('fs').accessSync('node_modules/tsray/dist/index.d.ts')"]);
});

test("a first program runs from TypeScript with tsx", async () => {
  const { stdout } = await run(join(project, "node_modules/.bin/tsx"), ["main.ts"]);
  assert.deepEqual(JSON.parse(stdout), EXPECTED);
});

test("it compiles under `tsc --init`'s settings and the compiled JavaScript runs", async () => {
  await tsc("--init");
  await tsc("-p", "tsconfig.json");
  const { stdout } = await run("node", ["main.js"]);
  assert.deepEqual(JSON.parse(stdout), EXPECTED);
});

test("it type-checks under the strictest settings, tsray's declaration files included, with or without @types/node", async () => {
  const strict = {
    module: "nodenext", target: "es2022", strict: true, noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: true,
    noImplicitOverride: true, noPropertyAccessFromIndexSignature: true, noImplicitReturns: true, skipLibCheck: false, noEmit: true,
  };
  writeJson("strict.json", { compilerOptions: { ...strict, types: ["node"] }, files: ["main.ts", "dispose.ts"] });
  await tsc("-p", "strict.json");
  // tsray's declarations need nothing of Node's: a project without @types/node loaded checks too.
  writeJson("strict-no-node.json", { compilerOptions: { ...strict, types: [] }, files: ["main.ts"] });
  await tsc("-p", "strict-no-node.json");
});

test("it compiles with a minimal config, and `using` runs on Node 20 when compiled for ES2022", async () => {
  writeJson("minimal.json", { compilerOptions: { module: "nodenext", outDir: "out-minimal" }, files: ["main.ts"] });
  await tsc("-p", "minimal.json");
  assert.deepEqual(JSON.parse((await run("node", ["out-minimal/main.js"])).stdout), EXPECTED);
  writeJson("es2022.json", { compilerOptions: { module: "nodenext", target: "es2022", strict: true, outDir: "out-es2022" }, files: ["dispose.ts"] });
  await tsc("-p", "es2022.json");
  assert.deepEqual(JSON.parse((await run("node", ["out-es2022/dispose.js"])).stdout), { seen: 2 });
});

test("tsray/data from the tarball type-checks under the strictest settings and runs from TypeScript and compiled", async () => {
  const expected = { count: 50, first: [{ x: 0 }, { x: 4 }, { x: 8 }], summary: { "mean(x)": 98, "count()": 50 }, batches: [[{ y: 1 }, { y: 5 }]] };
  assert.deepEqual(JSON.parse((await run(join(project, "node_modules/.bin/tsx"), ["data.ts"])).stdout), expected);
  writeJson("data-strict.json", {
    compilerOptions: {
      module: "nodenext", target: "es2022", strict: true, noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: true,
      noImplicitOverride: true, noPropertyAccessFromIndexSignature: true, noImplicitReturns: true, skipLibCheck: false,
      types: ["node"], outDir: "out-data",
    },
    files: ["data.ts"],
  });
  await tsc("-p", "data-strict.json");
  assert.deepEqual(JSON.parse((await run("node", ["out-data/data.js"])).stdout), expected);
});
