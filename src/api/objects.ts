/** put, get, wait, cancel. */
import { checkBoolean, checkInteger, checkKnownOptions, checkNonNegativeNumber, describe } from "../common/validate.js";
import { ObjectRef } from "../core-worker/object-ref.js";
import { coreWorker } from "../core-worker/runtime.js";
import { checkNotDisposed, isObjectRef } from "../serialization/prepare.js";
import type { CancelOptions, GetOptions, WaitOptions } from "../types.js";

export function put<T>(value: T): ObjectRef<T> {
  if (isObjectRef(value)) throw new TypeError("put() was given an ObjectRef: it is already in the object store");
  return coreWorker().put(value);
}

function checkRef(what: string, x: unknown): asserts x is ObjectRef {
  if (!isObjectRef(x)) throw new TypeError(`${what} must be an ObjectRef, got ${describe(x)}`);
  checkNotDisposed(x as object, what);
}

export async function get(refs: ObjectRef | readonly ObjectRef[], opts?: GetOptions): Promise<unknown> {
  checkKnownOptions("get() options", opts, ["timeoutMs"]);
  checkNonNegativeNumber("get() option timeoutMs", opts?.timeoutMs);
  if (Array.isArray(refs)) {
    refs.forEach((r, i) => checkRef(`get() argument refs[${i}]`, r));
    return coreWorker().get(refs, opts?.timeoutMs);
  }
  checkRef("get() argument", refs);
  const [value] = await coreWorker().get([refs as ObjectRef], opts?.timeoutMs);
  return value;
}

export async function wait<T>(refs: readonly ObjectRef<T>[], opts?: WaitOptions): Promise<[ObjectRef<T>[], ObjectRef<T>[]]> {
  checkKnownOptions("wait() options", opts, ["numReturns", "timeoutMs", "fetchLocal"]);
  if (!Array.isArray(refs)) throw new TypeError(`wait() argument refs must be a list of ObjectRefs, got ${describe(refs)}`);
  refs.forEach((r, i) => checkRef(`wait() argument refs[${i}]`, r));
  const ids = new Set(refs.map((r) => r.hex()));
  if (ids.size !== refs.length) throw new TypeError("wait() argument refs contains the same ObjectRef twice");
  const numReturns = opts?.numReturns ?? 1;
  checkInteger("wait() option numReturns", numReturns, 0);
  if (numReturns > refs.length) {
    throw new RangeError(`wait() option numReturns (${numReturns}) is larger than the number of refs (${refs.length})`);
  }
  checkNonNegativeNumber("wait() option timeoutMs", opts?.timeoutMs);
  checkBoolean("wait() option fetchLocal", opts?.fetchLocal);
  return coreWorker().wait(refs, numReturns, opts?.timeoutMs) as Promise<[ObjectRef<T>[], ObjectRef<T>[]]>;
}

export async function cancel(ref: ObjectRef, opts?: CancelOptions): Promise<void> {
  checkRef("cancel() argument", ref);
  checkKnownOptions("cancel() options", opts, ["force", "recursive"]);
  checkBoolean("cancel() option force", opts?.force);
  checkBoolean("cancel() option recursive", opts?.recursive);
  coreWorker().cancel(ref.hex(), opts?.force ?? false, opts?.recursive ?? true);
}
