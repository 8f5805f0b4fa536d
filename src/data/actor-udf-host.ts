/**
 * The actor that every actor pool is made of (actor-pool.ts). It constructs the operator's class
 * UDF once, with its constructor arguments, then runs the operator's fused stages over each input
 * block exactly as a task would (stage-task.ts), the class stage calling the instance's `call`.
 *
 * Workers import this module by its URL to host the actor (util.remoteExport), so it imports only
 * what the actor needs. Loading the user's class is asynchronous and a constructor is not, so the
 * instance is made in the background: `ready()` reports a constructor that threw, and every call
 * waits for it.
 */
import * as ray from "tsray";
import type { StoredBlock } from "./block.js";
import { blockOutputs, type TaskOutput } from "./block-task.js";
import { withContext, type DataContext } from "./context.js";
import type { StageSpec, UdfStage } from "./plan.js";
import { loadFunctionUdf, runStagesWith, type AnyUdf, type TaskInput } from "./stage-task.js";

/** This module, whose ActorUdfHost workers import (util.remoteExport). */
export const actorUdfHostModule = import.meta.url;

interface UdfInstance {
  call(input: unknown, ...fnArgs: unknown[]): unknown;
  close?(): unknown;
}

export class ActorUdfHost {
  readonly #stages: readonly StageSpec[];
  readonly #instance: Promise<UdfInstance>;

  /** `stages`: the operator's, one of them a class UDF's; `constructorArgs`: that class's fnConstructorArgs. */
  constructor(stages: readonly StageSpec[], ...constructorArgs: unknown[]) {
    this.#stages = stages;
    const stage = stages.find((s): s is UdfStage => "fnConstructorArgs" in s && s.fnConstructorArgs !== undefined);
    if (stage === undefined) throw new Error("internal: an actor pool's operator has no class UDF");
    this.#instance = construct(stage, constructorArgs);
    // Reported by ready() and by every call; not an unhandled rejection meanwhile.
    this.#instance.catch(() => {});
  }

  /** Resolves once the UDF is constructed; rejects with its constructor's error. */
  async ready(): Promise<void> {
    await this.#instance;
  }

  /** One input block (or a read to make it) through the operator's stages, returned as a task operator's are (block-task.ts). */
  async process(input: TaskInput, blockIndex: number, context: DataContext, ...bundledBlocks: StoredBlock[]): Promise<[StoredBlock, TaskOutput]> {
    const instance = await this.#instance;
    const call: AnyUdf = (batch, ...fnArgs) => instance.call(batch, ...fnArgs);
    const loadUdf = async (stage: UdfStage) => (stage.fnConstructorArgs !== undefined ? call : loadFunctionUdf(stage));
    return blockOutputs(await withContext(context, () => runStagesWith(loadUdf, input, this.#stages, blockIndex, bundledBlocks)), context);
  }

  /** The pool ends: the UDF's close(), if it has one. */
  async close(): Promise<void> {
    const instance = await this.#instance;
    if (typeof instance.close === "function") await instance.close();
  }
}

async function construct(stage: UdfStage, args: readonly unknown[]): Promise<UdfInstance> {
  const cls = (await ray.util.loadFunction(stage.fn)) as unknown as new (...args: unknown[]) => UdfInstance;
  // The actor's constructor gets its top-level ObjectRefs resolved; these guard the same for refs the runtime passed through.
  const resolved = await Promise.all(args.map((arg) => (arg instanceof ray.ObjectRef ? ray.get(arg) : arg)));
  const instance = new cls(...resolved);
  if (typeof instance?.call !== "function") throw new TypeError(`${stage.name}: the class ${cls.name} has no call() method; a class UDF is called as instance.call(input, ...fnArgs)`);
  return instance;
}
