// Seed 004 (Korean): "[Ray] Multiprocessing library Ray" — its Ray Serve snippet, translated to
// tsray Serve and today's API: the article's Ray 1.x `@serve.deployment class Counter` with
// `Counter.deploy()` and `Counter.get_handle()` becomes serve.deployment(Counter) with
// serve.run(Counter.bind(), { routePrefix: "/Counter" }), which returns the handle.
//
// The article queries http://127.0.0.1:8000/Counter; here Serve takes a free port (port 0) so the
// example runs beside anything else on 8000, and prints the URL it got.
import * as ray from "tsray";
import * as serve from "tsray/serve";

await ray.init({ logToDriver: false, includeDashboard: false });
const { httpUrl } = await serve.start({ http: { port: 0 } }); // serve.start()

// @serve.deployment class Counter: __call__ serves HTTP (here fetch) and handle calls (here increment).
class Counter {
  count = 0;
  increment() {
    this.count += 1;
    return { count: this.count };
  }
  fetch(_request: Request) {
    return this.increment();
  }
}

// Counter.deploy()
const handle = await serve.run(serve.deployment(Counter).bind(), { routePrefix: "/Counter" });
console.log(`Counter deployed at ${httpUrl}/Counter`);

// Query our endpoint in two different ways: from HTTP and from TypeScript.
const overHttp = await (await fetch(`${httpUrl}/Counter`)).json();
console.log("HTTP:", JSON.stringify(overHttp)); // assert requests.get(".../Counter").json() == {"count": 1}
const overHandle = await handle.increment.remote();
console.log("handle:", JSON.stringify(overHandle)); // assert ray.get(Counter.get_handle().remote()) == {"count": 2}

await serve.shutdown();
await ray.shutdown();
