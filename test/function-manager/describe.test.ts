/**
 * describeCallable and loadCallable in this process (tsray from source, under tsx). This test
 * file is itself the driver script (process.argv[1]); fixtures/scope-sample.ts is only read.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { callerModuleUrl, describeCallable, runsUnderTsx } from "../../src/core-worker/function-manager/describe.js";
import type { FunctionDescriptor } from "../../src/core-worker/function-manager/descriptor.js";
import { loadCallable } from "../../src/core-worker/function-manager/load.js";
import { emitOptionsFor } from "../../src/core-worker/function-manager/tsconfig.js";
import { greet } from "./fixtures/lib.js";

const here = import.meta.url;
const sampleUrl = new URL("./fixtures/scope-sample.ts", import.meta.url).href;
const libUrl = new URL("./fixtures/lib.ts", import.meta.url).href;

function sourceOf(desc: FunctionDescriptor): string {
  assert.equal(desc.kind, "source");
  return desc.kind === "source" ? desc.code : "";
}

function greetTwice(name: string): string {
  return `${greet(name)}, ${greet(name)}`;
}

function whereAmI(): string {
  return callerModuleUrl();
}

describe("callerModuleUrl and runsUnderTsx", () => {
  test("callerModuleUrl is the module that called it", () => {
    assert.equal(callerModuleUrl(), here);
  });

  test("this test runs under tsx", () => {
    assert.equal(runsUnderTsx(), true);
  });
});

describe("describeCallable", () => {
  // Sources written as strings so they can name the sample's bindings.
  const usesEverything = new Function(
    "return [task, configured, viaNamed, actor, cache, allowed, emitter, loaded, mutated, unset, home, frozen, MB, PI2, Color, pathJoin]",
  );
  const code = sourceOf(describeCallable(usesEverything, sampleUrl));

  test("ships only the imports the source mentions", () => {
    // Specifiers are resolved when describing, so workers import absolute URLs without a hook.
    assert.match(code, /^import \* as ray from "file:\/\/\/.*\/src\/index\.ts";$/m);
    assert.match(code, /^import \{ join \} from "node:path";$/m);
    assert.match(code, /^import \{ greet \} from "file:\/\/\/.*\/fixtures\/lib\.ts";$/m, "pulled in by task's body");
    assert.doesNotMatch(code, /readFileSync|Unused/);
  });

  test("ships shippable declarations, transitively and in source order", () => {
    const shipped = [
      "class Counter", "const task = ray.remote(", "const configured = ray.remote({ numCpus: 1 })(",
      "const viaNamed = remote(Counter)", "const cache = ", "const allowed = ", "const frozen = Object.freeze(",
      "const KB = 1024", "const MB = KB * KB", "const PI2 = Math.PI * 2", "var Color = ", "const pathJoin = join",
    ];
    let last = -1;
    for (const text of shipped) {
      const at = code.indexOf(text);
      assert.ok(at > last, `${text} missing or out of order in:\n${code}`);
      last = at;
    }
  });

  test("withholds what would differ or act in a worker: declared in a `let` that never runs", () => {
    const withheld = ["actor", "emitter", "home", "loaded", "mutated", "unset"];
    for (const name of withheld) assert.doesNotMatch(code, new RegExp(`^(const|let|var) ${name} =`, "m"), name);
    assert.deepEqual((describeCallable(usesEverything, sampleUrl) as { withheld?: string[] }).withheld, withheld);
    assert.match(code, new RegExp(`^let ${withheld.join(", ")};$`, "m"));
  });

  test("ends with the callable as default export and a sourceURL naming it", () => {
    const lines = code.trimEnd().split("\n");
    assert.equal(lines[0], `// tsray:scope=${sampleUrl}`);
    assert.match(lines[1]!, /^var __name = /);
    // With bindings withheld, the declarations and the callable sit in a function scope.
    assert.match(code, /^export default \(\(\) => \{$/m);
    assert.match(code, /^return \(\(function anonymous\(/m);
    assert.equal(lines.at(-2), "})();");
    assert.equal(lines.at(-1), `//# sourceURL=tsray:anonymous@${sampleUrl}`);
    // Without, the callable is the module's default export itself.
    assert.match(sourceOf(describeCallable(new Function("return MB"), sampleUrl)), /^export default \(\(function anonymous\(/m);
  });

  test("the driver script is marked in the header and never module-exported", () => {
    const desc = describeCallable(greetTwice, here);
    assert.equal(desc.kind, "source");
    assert.match(sourceOf(desc), new RegExp(`^// tsray:scope=${here} driver\\n`));
  });

  test("an export of a non-driver module, and an anonymous default export, travel by module", () => {
    const exported = new Function("return 1");
    Object.defineProperty(exported, "name", { value: "exported" });
    assert.deepEqual(describeCallable(exported, sampleUrl), {
      kind: "module-export", id: describeCallable(exported, sampleUrl).id, name: "exported", moduleUrl: sampleUrl, exportName: "exported",
    });
    const anonymous = new Function("return 2");
    Object.defineProperty(anonymous, "name", { value: "default" });
    const desc = describeCallable(anonymous, sampleUrl);
    assert.equal(desc.kind === "module-export" && desc.exportName, "default");
  });

  test("an imported builtin travels as the builtin's export, not as (native) source", () => {
    const desc = describeCallable(randomUUID, here);
    assert.equal(desc.kind, "module-export");
    assert.equal(desc.kind === "module-export" && `${desc.moduleUrl}#${desc.exportName}`, "node:crypto#randomUUID");
  });

  test("an imported function travels as its module's export, resolved like tsx does", () => {
    const desc = describeCallable(greet, here);
    assert.equal(desc.kind === "module-export" && `${desc.moduleUrl}#${desc.exportName}`, `${libUrl}#greet`);
  });

  test("is cached per target and scope, and ids depend only on content", () => {
    assert.equal(describeCallable(greetTwice, here), describeCallable(greetTwice, here));
    const a = describeCallable(new Function("x", "return x + 1"), sampleUrl);
    const b = describeCallable(new Function("x", "return x + 1"), sampleUrl);
    assert.notEqual(a, b);
    assert.equal(a.id, b.id);
    assert.notEqual(a.id, describeCallable(new Function("x", "return x + 2"), sampleUrl).id);
    assert.match(a.id, /^[0-9a-f]{40}$/);
  });

  test("method shorthand is wrapped into an expression; getters are refused", () => {
    const object = {
      triple(x: number): number {
        return x * 3;
      },
      get value(): number {
        return 1;
      },
    };
    assert.match(sourceOf(describeCallable(object.triple, here)), /^export default \(\(\{\s*triple\(x\) \{[\s\S]*\}\s*\}\s*\)\.triple\);$/m);
    const getter = Object.getOwnPropertyDescriptor(object, "value")!.get!;
    assert.throws(() => describeCallable(getter, here), { name: "TypeError", message: /getter or setter/ });
  });

  test("a class whose decorators run as top-level statements is refused, not shipped without them", () => {
    const decorated = new Function("return 1");
    Object.defineProperty(decorated, "name", { value: "Decorated" });
    assert.throws(() => describeCallable(decorated, sampleUrl), { name: "TypeError", message: /"Decorated".*decorators/ });
  });

  test("native and bound functions are refused by name", () => {
    assert.throws(() => describeCallable(Math.max, here), { name: "TypeError", message: /"max".*native or bound/ });
    assert.throws(() => describeCallable(greetTwice.bind(null), here), { name: "TypeError", message: /"bound greetTwice"/ });
  });

  test("without a readable scope module the source ships alone", () => {
    const desc = describeCallable(new Function("return typeof missing"), "file:///nonexistent/[eval1]");
    assert.match(sourceOf(desc), /^export default/m);
  });
});

describe("loadCallable", () => {
  test("rebuilds a driver function whose relative TypeScript import resolves from its scope", async () => {
    const fn = (await loadCallable(describeCallable(greetTwice, here))) as typeof greetTwice;
    assert.equal(fn("a"), "hello a, hello a");
    assert.equal(fn.name, "greetTwice");
  });

  test("is cached by id", async () => {
    const desc = describeCallable(greetTwice, here);
    assert.equal(await loadCallable(desc), await loadCallable({ ...desc }));
  });

  test("a stack frame inside a generated module maps back to its scope module", async () => {
    const fn = (await loadCallable(describeCallable(whereAmI, here))) as () => string;
    assert.equal(fn(), here);
  });

  test("loads builtins' exports", async () => {
    const fn = (await loadCallable(describeCallable(randomUUID, here))) as () => string;
    assert.match(fn(), /^[0-9a-f-]{36}$/);
  });

  const source = (name: string, body: string): FunctionDescriptor => ({
    kind: "source", id: `test-${name}`, name, scopeUrl: here, code: `// tsray:scope=${here}\n${body}\n`,
  });

  test("rejects with the real error", async () => {
    await assert.rejects(loadCallable(source("syntax", "export default (function ( {;")), { name: "SyntaxError" });
    await assert.rejects(loadCallable(source("import", 'import { x } from "./no-such-module.js";\nexport default () => x;')), {
      code: "ERR_MODULE_NOT_FOUND",
    });
    await assert.rejects(loadCallable({ kind: "module-export", id: "test-missing", name: "nope", moduleUrl: libUrl, exportName: "nope" }), {
      name: "SyntaxError",
      message: /does not provide an export named 'nope'/,
    });
    await assert.rejects(loadCallable({ kind: "module-export", id: "test-sep", name: "sep", moduleUrl: "node:path", exportName: "sep" }), {
      name: "TypeError",
      message: /not a function or class/,
    });
    await assert.rejects(loadCallable({ kind: "other" } as unknown as FunctionDescriptor), { name: "TypeError" });
  });
});

describe("tsconfig emit options", () => {
  test("reads the nearest tsconfig.json, with comments, trailing commas and extends", () => {
    const repo = fileURLToPath(new URL("../../", import.meta.url));
    mkdirSync(join(repo, "tmp"), { recursive: true });
    const dir = mkdtempSync(join(repo, "tmp", "function-manager-tsconfig-"));
    try {
      writeFileSync(join(dir, "base.json"), '{ "compilerOptions": { "experimentalDecorators": true, "strict": true } }');
      writeFileSync(
        join(dir, "tsconfig.json"),
        '{\n  // project\n  "extends": "./base",\n  "compilerOptions": { /* "x": 1 */ "useDefineForClassFields": false, "outDir": "a//b", },\n}\n',
      );
      mkdirSync(join(dir, "src"));
      assert.deepEqual(emitOptionsFor(join(dir, "src", "x.ts")), {
        experimentalDecorators: true, strict: true, useDefineForClassFields: false,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
