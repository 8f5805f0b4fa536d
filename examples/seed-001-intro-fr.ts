// Seed 001 (French): "Introduction au traitement parallèle distribué Python par Ray" — an introduction
// to ray.init, ray.remote, ray.get, dependent and nested tasks, actors, ray.wait and ray.put
// (written for Python 3.8.2 and Ray 0.8.4). Every Ray snippet of the article, translated to tsray.
//
// Sleeps are scaled down so the program runs in a few seconds: 1 s in the article is SECOND = 200 ms
// here (3 s is 600 ms, 0.5 s is 100 ms). Elapsed times are printed in milliseconds and "seconds".
// They include starting worker threads whenever more tasks or actors run at once than ever before
// in the program (about a second of CPU per thread when running from TypeScript sources), so
// some are longer than the article's: the nested calls, for one, need four more workers.
import * as ray from "tsray";
import { setTimeout as delay } from "node:timers/promises";

const SECOND = 200; // 1 s in the article

/** A list printed as Python prints it: [1, 101, 2, 102, 3, 103]. */
const show = (xs: readonly unknown[]) => `[${xs.join(", ")}]`;

/** Elapsed time since `begin`, as the article's print(end_time - begin_time) would show it. */
function elapsed(begin: number): string {
  const ms = performance.now() - begin;
  return `${Math.round(ms)} ms (${(ms / SECOND).toFixed(1)} "seconds")`;
}

// ---------------------------------------------------------------------------------------------
// Bases de la parallélisation avec Ray: first without Ray, a function that takes 3 "seconds",
// called twice: about 6 "seconds".

async function func(x: number) {
  await delay(3 * SECOND);
  return x;
}

{
  const beginTime = performance.now(); // Heure de début d'enregistrement
  const [res1, res2] = [await func(1), await func(2)]; // Appeler func deux fois
  console.log(res1, res2); // production: 1 2
  console.log("sequential:", elapsed(beginTime)); // Environ 6 secondes
}

// ray.init(num_cpus=4): four logical CPUs (the tasks below sleep, they don't need real cores).
await ray.init({ numCpus: 4 });

// Attendez un peu que Ray démarre pour une mesure du temps plus précise
// (wait a little for Ray to start, for a more accurate measurement: tsray boots its worker
// threads in the background after init, which takes about a second, as in the article).
await delay(1000);

// The same function, made remote: ray.remote(func) leaves func itself unchanged.
const remoteFunc = ray.remote(func);

{
  const beginTime = performance.now();
  const [res1, res2] = [remoteFunc.remote(1), remoteFunc.remote(2)];
  console.log(`${res1}`); // Exemple de sortie: ObjectID(45b9....)

  console.log(await ray.get(res1), await ray.get(res2)); // production: 1 2

  // ray.get peut aussi recevoir une liste
  console.log(show(await ray.get([res1, res2]))); // production: [1, 2]

  console.log("parallel:", elapsed(beginTime)); // Environ 3 secondes
}

// ---------------------------------------------------------------------------------------------
// Parallélisation dépendante: pass the ObjectRef of one task straight to the next.

const func1 = ray.remote(async function func1(x: number) {
  await delay(1 * SECOND);
  return x * 2;
});

const func2 = ray.remote(async function func2(x: number) {
  await delay(1 * SECOND);
  return x + 1;
});

const vec = [1, 2, 3, 4];

{
  const beginTime = performance.now();
  const results = [];
  for (const x of vec) {
    let res = func1.remote(x); // objectID est inclus dans res
    res = func2.remote(res); // Passez l'ObjectID tel quel à la fonction distante suivante
    results.push(res);
  }
  // results est une liste d'ObjectID
  console.log(show(await ray.get(results))); // production: [3, 5, 7, 9]
  console.log("dependent:", elapsed(beginTime)); // about 2 "seconds" instead of 8
}

// Nested calls: a remote function that calls another one (defined beforehand) and waits for it.
// (The article redefines func2; here it gets its own name.)
const func2Nested = ray.remote(async function func2(x: number) {
  const ref = func1.remote(x); // ObjectID renvoyé
  await delay(1 * SECOND);
  return (await ray.get(ref)) + 1; // an ObjectRef cannot be added to: get it first
});

{
  const beginTime = performance.now();
  console.log(show(await ray.get(vec.map((x) => func2Nested.remote(x))))); // production: [3, 5, 7, 9]
  console.log("nested:", elapsed(beginTime));
}

// ---------------------------------------------------------------------------------------------
// Actor: a class with state. A counter that takes 1 "second" per increment.

class Counter {
  count: number;
  sleep: boolean;
  constructor(initVal: number, sleep = true) {
    // Initialiser avec init_val
    this.count = initVal;
    this.sleep = sleep;
  }

  async increment() {
    if (this.sleep) await delay(1 * SECOND);
    this.count += 1;
    return this.count;
  }
}

const RemoteCounter = ray.remote(Counter);

{
  const beginTime = performance.now();
  // Créer des compteurs avec des valeurs initiales de 0 et 100
  const [counter1, counter2] = [RemoteCounter.remote(0), RemoteCounter.remote(100)];

  const results = [];
  for (let i = 0; i < 3; i++) {
    results.push(counter1.increment.remote());
    results.push(counter2.increment.remote());
  }
  console.log(show(await ray.get(results))); // production: [1, 101, 2, 102, 3, 103]
  console.log("two counters:", elapsed(beginTime)); // about 3 "seconds" for 6 increments
}

// Calling one actor's methods from several tasks at once: pass the actor handle to a task.
const incrementer = ray.remote(async function incrementer(counter: ray.ActorHandle<Counter>, id: number, times: number) {
  // Incrément de fois chaque seconde
  for (let i = 0; i < times; i++) {
    const cnt = counter.increment.remote();
    console.log(`id= ${id} : count = ${await ray.get(cnt)}`);
    await delay(1 * SECOND);
  }
});

{
  const counter = RemoteCounter.remote(0, false); // Un compteur où un incrément se termine en un instant

  incrementer.remote(counter, 1, 5); // id=1, times=5
  await delay(0.5 * SECOND); // Début 0.5 "seconde" de décalage
  const inc = incrementer.remote(counter, 2, 5); // id=2, times=5

  await ray.wait([inc]); // Sera expliqué ensuite, Fonction d'attendre la fin
  // (0.0 seconde plus tard) id = 1 : count = 1
  // (0.5 secondes plus tard) id = 2 : count = 2
  // (1.0 seconde plus tard) id = 1 : count = 3
  // (1.5 secondes plus tard) id = 2 : count = 4
  // (2.0 seconde plus tard) ......
}

// ---------------------------------------------------------------------------------------------
// ray.wait: wait for some of the tasks, get back the finished and the unfinished ones.

const sleep = ray.remote(async function sleep(x: number) {
  // Une fonction qui se repose pendant x secondes et renvoie x
  await delay(x * SECOND);
  return x;
});

{
  const beginTime = performance.now();
  const ids = [sleep.remote(3), sleep.remote(5), sleep.remote(2)];
  const [finishedIds, runningIds] = await ray.wait(ids, { numReturns: 2 }); // timeout=None: no timeoutMs

  console.log(show(await ray.get(finishedIds)), "after", elapsed(beginTime)); // production(Après 3 secondes): [3, 2]
  console.log(show(await ray.get(runningIds)), "after", elapsed(beginTime)); // production(Après 5 secondes): [5]
}

// ---------------------------------------------------------------------------------------------
// ray.put: put a big object into the object store once, then pass its ObjectRef to every task,
// instead of copying the object into each call.

const func4 = ray.remote(async function func4(obj: Float64Array, idx: number) {
  await delay(1 * SECOND);
  return idx;
});

{
  // big_object est un gros objet: the article leaves it as None; here, 8 MB of numbers.
  const bigObject = new Float64Array(1_000_000).fill(1);

  const bigObjId = ray.put(bigObject);

  // func4.remote() est appelé quatre fois; on passe l'ObjectRef, donc pas de copie de big_object.
  // (Each task sees the same shared memory: a read-only, zero-copy view.)
  const beginTime = performance.now();
  const results = [0, 1, 2, 3].map((i) => func4.remote(bigObjId, i));

  console.log(show(await ray.get(results))); // production: [0, 1, 2, 3]
  console.log("put:", elapsed(beginTime));
}

await ray.shutdown();
