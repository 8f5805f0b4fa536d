/** getActor and kill. */
import { checkBoolean, checkKnownOptions, checkString, describe } from "../common/validate.js";
import { makeActorHandle } from "../core-worker/actor-handle.js";
import { coreWorker } from "../core-worker/runtime.js";
import { ACTOR_HANDLE_BRAND, type ActorHandleData } from "../serialization/markers.js";
import { isActorHandle } from "../serialization/prepare.js";

export async function getActor(name: string, opts?: { namespace?: string }): Promise<object> {
  checkString("getActor() argument name", name);
  if (typeof name !== "string") throw new TypeError(`getActor() argument name must be a string, got ${describe(name)}`);
  checkKnownOptions("getActor() options", opts, ["namespace"]);
  checkString("getActor() option namespace", opts?.namespace);
  const cw = coreWorker();
  const data = await cw.request<ActorHandleData>("getActor", name, opts?.namespace ?? cw.info.namespace);
  return makeActorHandle(coreWorker, data, false);
}

export async function kill(actor: object, opts?: { noRestart?: boolean }): Promise<void> {
  if (!isActorHandle(actor)) throw new TypeError(`kill() argument must be an ActorHandle, got ${describe(actor)}`);
  checkKnownOptions("kill() options", opts, ["noRestart"]);
  checkBoolean("kill() option noRestart", opts?.noRestart);
  const data = (actor as Record<symbol, ActorHandleData>)[ACTOR_HANDLE_BRAND];
  coreWorker().send({ t: "kill-actor", actorId: data.actorId, noRestart: opts?.noRestart ?? true });
}
