// The README's tour of tsray Serve: a small sentiment service of three deployments. The ingress
// answers HTTP with a fetch(request) method, composes the two others through handles (a
// response passed on unawaited), streams a response, and the scorer batches concurrent calls.
// Then a userConfig change reaches the running replicas without restarting them.
import * as ray from "tsray";
import * as serve from "tsray/serve";

class Tokenizer {
  tokenize(text: string): string[] {
    return text.toLowerCase().split(/[^a-z']+/).filter(Boolean);
  }
}

class Scorer {
  words: Record<string, number> = {};
  // userConfig: given at start, and again in place whenever it changes.
  reconfigure(config: { words: Record<string, number> }) {
    this.words = config.words;
  }
  // Concurrent calls on one replica share one call of this function (a model would score the batch at once).
  score = serve.batch(async (texts: string[][]) => {
    return texts.map((tokens) => ({ score: tokens.reduce((sum, t) => sum + (this.words[t] ?? 0), 0), batch: texts.length }));
  }, { maxBatchSize: 8, batchWaitTimeoutMs: 20 });
}

class Api {
  constructor(
    private readonly tokenizer: serve.DeploymentHandle<Tokenizer>,
    private readonly scorer: serve.DeploymentHandle<Scorer>,
  ) {}
  async fetch(request: Request) {
    const url = new URL(request.url);
    const text = url.searchParams.get("text") ?? "";
    if (url.pathname === "/score") {
      // The tokenizer's response goes to the scorer unawaited: the scorer's replica gets its value.
      const { score } = await this.scorer.score.remote(this.tokenizer.tokenize.remote(text));
      return { text, score };
    }
    if (url.pathname === "/words") {
      const tokens = await this.tokenizer.tokenize.remote(text);
      return (async function* () {
        for (const token of tokens) yield `${token}\n`;
      })();
    }
    return new Response("try /score?text=... or /words?text=...", { status: 404 });
  }
}

await ray.init({ logToDriver: false, includeDashboard: false });
const { httpUrl } = await serve.start({ http: { port: 0 } });
const words = { good: 1, great: 2, bad: -1, awful: -2 };
// A replica holds one CPU unless told otherwise: the two light deployments ask for a quarter, so
// the three fit on a two-core laptop.
const light = { rayActorOptions: { numCpus: 0.25 } };
const app = serve.deployment(Api, light).bind(
  serve.deployment(Tokenizer, light).bind(),
  serve.deployment(Scorer, { userConfig: { words } }).bind(),
);
const api = await serve.run(app, { name: "sentiment", routePrefix: "/sentiment" });
console.log(`sentiment at ${httpUrl}/sentiment`);

const score = async (text: string) => (await fetch(`${httpUrl}/sentiment/score?text=${encodeURIComponent(text)}`)).json();
console.log("score:", JSON.stringify(await score("A great day, good food")));
console.log("words:", JSON.stringify(await (await fetch(`${httpUrl}/sentiment/words?text=Not+bad+at+all`)).text()));

// Eight requests at once: the scorer's replica runs them in batches of up to eight.
const scorer = await serve.getDeploymentHandle<Scorer>("Scorer", "sentiment");
const results = await Promise.all(["good", "bad", "great", "awful", "good good", "bad bad", "meh", "great great"].map((t) => scorer.score.remote(t.split(" "))));
console.log("scores:", results.map((r) => r.score).join(" "));
console.log("largest batch:", Math.max(...results.map((r) => r.batch)));

// A new userConfig: the same replica (same pid) reconfigured in place.
const before = (await serve.status()).applications.sentiment!.deployments.Scorer!.replicas[0]!.pid;
await serve.run(serve.deployment(Api, light).bind(
  serve.deployment(Tokenizer, light).bind(),
  serve.deployment(Scorer, { userConfig: { words: { ...words, meh: -1 } } }).bind(),
), { name: "sentiment", routePrefix: "/sentiment" });
const after = (await serve.status()).applications.sentiment!.deployments.Scorer!.replicas[0]!.pid;
console.log("meh after the update:", JSON.stringify(await score("meh")), "same replica:", before === after);

// The ingress through its handle, as another program's code would call it: fetch's own result.
const viaHandle = await api.fetch.remote(new Request("http://any/score?text=good"));
console.log("through the handle:", JSON.stringify(viaHandle));

const status = await serve.status();
console.log("status:", status.applications.sentiment!.status, Object.entries(status.applications.sentiment!.deployments).map(([name, d]) => `${name}=${d.status}`).join(" "));
await serve.shutdown();
await ray.shutdown();
