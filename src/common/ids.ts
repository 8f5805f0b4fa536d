/**
 * Identifiers. Ids are lowercase hex. A task id is the submitting worker's random prefix plus a
 * counter, so ids are unique in the cluster without coordination; an object id is a task id
 * plus a 4-hex-digit index (0 for the objects of `put`, 1..n for a task's returns and a
 * streaming task's items).
 */
import { randomBytes } from "node:crypto";

export const TASK_ID_HEX = 24;
export const OBJECT_ID_HEX = 28;

export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString("hex");
}

const COUNTER_BASE = 2 ** 48;

/**
 * Hands out task ids from one random prefix: cheap enough for the submit hot path. The counter
 * is written as 13 hex digits of 2^48 + n (the leading 1 spares a padStart and its string).
 */
export class TaskIdGenerator {
  readonly prefix = randomHex(6).slice(0, TASK_ID_HEX - 13);
  private counter = COUNTER_BASE;
  next(): string {
    return this.prefix + (++this.counter).toString(16);
  }
}

export function objectIdOf(taskId: string, index: number): string {
  // The first return is by far the most common: spare it the formatting.
  return taskId + (index === 1 ? "0001" : index.toString(16).padStart(4, "0"));
}

export function taskIdOfObject(objectId: string): string {
  return objectId.slice(0, TASK_ID_HEX);
}

export function indexOfObject(objectId: string): number {
  return parseInt(objectId.slice(TASK_ID_HEX), 16);
}
