// util.registerSerializer (Ray's register_serializer): an instance of a registered class travels as what its
// serializer makes of it (private fields and all), and a worker that never loaded the registration imports the
// module it names.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as ray from "tsray";
import { Point } from "../fixtures/point.js";

before(() => ray.init({ numCpus: 2 }));
after(() => ray.shutdown());

test("a registered class comes back from put and get as an instance, private fields and all", async () => {
  const p = await ray.get(ray.put({ nested: [new Point(3, 4)] }));
  assert.ok(p.nested[0] instanceof Point);
  assert.equal(p.nested[0].norm(), 5);
});

test("a task receives one (importing the module that registers it) and returns one; ObjectRefs inside travel too", async () => {
  const label = ray.put("a label");
  const scale = ray.remote(async (p: Point, k: number) => {
    const scaled = p.scaled(k);
    return { norm: scaled.norm(), label: await ray.get(p.label!), point: scaled };
  });
  const out = await ray.get(scale.remote(new Point(3, 4, label), 2));
  assert.equal(out.norm, 10);
  assert.equal(out.label, "a label");
  assert.ok(out.point instanceof Point);
  assert.equal(out.point.norm(), 10);
});

test("bad registrations are refused; a serializer that throws names the argument; a class without a registration where it arrives is a clear error", async () => {
  assert.throws(() => ray.util.registerSerializer(class A {}, {} as never), /needs serialize\(instance\) and deserialize\(state\)/);
  assert.throws(() => ray.util.registerSerializer(class B {}, { serialize: () => 1, deserialize: () => new (class {})(), module: "./x.js" }), /option module must be a module's URL/);
  class Broken {}
  ray.util.registerSerializer(Broken, { serialize: () => { throw new Error("nope"); }, deserialize: () => new Broken() });
  const echo = ray.remote((v: unknown) => v);
  assert.throws(() => echo.remote({ inner: new Broken() }), /args\[0\]\.inner \(a Broken\) cannot be serialized: its serializer threw nope/);
  // Registered here only, without a module to import: the worker cannot rebuild it.
  class Local { constructor(readonly v: number) {} }
  ray.util.registerSerializer(Local, { tag: "test.Local", serialize: (l: Local) => l.v, deserialize: (v: number) => new Local(v) });
  await assert.rejects(ray.get(echo.remote(new Local(1))), /class 'test\.Local' arrived, but this thread has no serializer registered for it/);
  ray.util.deregisterSerializer(Local);
  assert.deepEqual(await ray.get(ray.put(new Local(2))), { v: 2 });
});

test("a Proxy over an instance of a registered class (a handle answering any name) travels by its serializer; other Proxies are refused", async () => {
  class Named { constructor(readonly name: string) {} }
  ray.util.registerSerializer(Named, { tag: "test.Named", serialize: (n: Named) => n.name, deserialize: (s: string) => new Named(s) });
  const proxy = new Proxy(new Named("n"), { get: (t, p, r) => (p in t || typeof p === "symbol" ? Reflect.get(t, p, r) : "any") });
  const back = await ray.get(ray.put({ p: proxy }));
  assert.ok(back.p instanceof Named);
  assert.equal(back.p.name, "n");
  assert.throws(() => ray.put(new Proxy({}, {})), /is a Proxy, which cannot be sent/);
  ray.util.deregisterSerializer(Named);
});
