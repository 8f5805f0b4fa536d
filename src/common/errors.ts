/**
 * The error hierarchy of the runtime. Every error tsray raises extends RayError and carries a
 * stable `code`. `instanceof` works across duplicate copies of the package (and across the
 * worker-thread boundary, where errors are rebuilt from ErrorInfo) because the check looks at
 * a brand, not at the prototype chain of one particular copy.
 */

const BRAND = Symbol.for("tsray.error.codes");

/** Plain-data description of an error, for messages between threads and nodes. */
export interface ErrorInfo {
  /** The RayError subclass code, or "USER" for an error thrown by user code. */
  code: string;
  name: string;
  message: string;
  stack?: string;
  /** For task errors: the task's name. */
  taskName?: string;
  /** The underlying error (the user's original error for RayTaskError). */
  cause?: ErrorInfo;
}

function defineBrand(target: object, codes: string[]): void {
  Object.defineProperty(target, BRAND, { value: codes, enumerable: false });
}

function brandedInstance(value: unknown, code: string): boolean {
  if (value === null || typeof value !== "object") return false;
  const codes = (value as Record<symbol, unknown>)[BRAND];
  return Array.isArray(codes) && codes.includes(code);
}

export class RayError extends Error {
  static readonly code: string = "RAY_ERROR";
  readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    const ctor = new.target as unknown as { code: string; name: string };
    this.code = ctor.code;
    this.name = ctor.name;
    // Every class on the chain contributes its code, so `x instanceof RayActorError` holds for ActorDiedError.
    const codes: string[] = [];
    for (let c: any = new.target; c && c.code; c = Object.getPrototypeOf(c)) codes.push(c.code);
    defineBrand(this, codes);
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return brandedInstance(value, (this as unknown as { code: string }).code);
  }
}

/** The user's function threw. `cause` keeps the original name, message and remote stack. */
export class RayTaskError extends RayError {
  static override readonly code: string = "TASK_ERROR";
  readonly taskName: string;
  declare readonly cause: Error;
  constructor(taskName: string, cause: Error) {
    super(`Task ${taskName} failed: ${cause.name}: ${cause.message}`, { cause });
    this.taskName = taskName;
    // The remote stack is the useful one: show it under ours.
    if (cause.stack) this.stack = `${this.name}: ${this.message}\n  remote stack (${taskName}):\n${indent(cause.stack)}`;
  }
}
export class RayActorError extends RayError {
  static override readonly code: string = "ACTOR_ERROR";
}
export class ActorDiedError extends RayActorError {
  static override readonly code: string = "ACTOR_DIED";
}
export class WorkerCrashedError extends RayError {
  static override readonly code: string = "WORKER_CRASHED";
}
export class NodeDiedError extends RayError {
  static override readonly code: string = "NODE_DIED";
}
export class ObjectLostError extends RayError {
  static override readonly code: string = "OBJECT_LOST";
}
export class GetTimeoutError extends RayError {
  static override readonly code: string = "GET_TIMEOUT";
}
export class TaskCancelledError extends RayError {
  static override readonly code: string = "TASK_CANCELLED";
}
export class OutOfMemoryError extends RayError {
  static override readonly code: string = "OUT_OF_MEMORY";
}
export class ObjectStoreFullError extends RayError {
  static override readonly code: string = "OBJECT_STORE_FULL";
}
export class RaySystemError extends RayError {
  static override readonly code: string = "SYSTEM_ERROR";
}

function indent(text: string): string {
  return text.split("\n").map((l) => "    " + l).join("\n");
}

const BY_CODE: Record<string, new (message: string) => RayError> = {
  RAY_ERROR: RayError,
  ACTOR_ERROR: RayActorError,
  ACTOR_DIED: ActorDiedError,
  WORKER_CRASHED: WorkerCrashedError,
  NODE_DIED: NodeDiedError,
  OBJECT_LOST: ObjectLostError,
  GET_TIMEOUT: GetTimeoutError,
  TASK_CANCELLED: TaskCancelledError,
  OUT_OF_MEMORY: OutOfMemoryError,
  OBJECT_STORE_FULL: ObjectStoreFullError,
  SYSTEM_ERROR: RaySystemError,
};

const BUILTIN_ERRORS: Record<string, ErrorConstructor> = {
  Error, TypeError, RangeError, ReferenceError, SyntaxError, EvalError, URIError,
};

/** Describes any thrown value as data. Non-Error throws become an Error describing the value. */
export function toErrorInfo(err: unknown): ErrorInfo {
  if (err instanceof RayError) {
    const info: ErrorInfo = { code: err.code, name: err.name, message: err.message, stack: err.stack };
    if (err instanceof RayTaskError) info.taskName = err.taskName;
    if (err.cause !== undefined) info.cause = toErrorInfo(err.cause);
    return info;
  }
  if (err instanceof Error) {
    const info: ErrorInfo = { code: "USER", name: err.name, message: err.message, stack: err.stack };
    if (err.cause !== undefined) info.cause = toErrorInfo(err.cause);
    return info;
  }
  return { code: "USER", name: "Error", message: `non-Error thrown: ${describeThrown(err)}` };
}

function describeThrown(value: unknown): string {
  try {
    return typeof value === "string" ? JSON.stringify(value) : String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** Rebuilds an error from its description, keeping name, message and remote stack. */
export function fromErrorInfo(info: ErrorInfo): Error {
  if (info.code === "USER") {
    const Ctor = BUILTIN_ERRORS[info.name] ?? Error;
    const err = new Ctor(info.message, info.cause ? { cause: fromErrorInfo(info.cause) } : undefined);
    if (err.name !== info.name) Object.defineProperty(err, "name", { value: info.name, configurable: true, writable: true });
    if (info.stack) err.stack = info.stack;
    return err;
  }
  if (info.code === "TASK_ERROR") {
    const cause = info.cause ? fromErrorInfo(info.cause) : new Error(info.message);
    return new RayTaskError(info.taskName ?? "task", cause);
  }
  const Ctor = BY_CODE[info.code] ?? RaySystemError;
  const err = new Ctor(info.message);
  if (info.cause) Object.defineProperty(err, "cause", { value: fromErrorInfo(info.cause), configurable: true, writable: true });
  return err;
}

/** The description of a user error raised inside task `taskName`. */
export function taskErrorInfo(taskName: string, err: unknown): ErrorInfo {
  if (err instanceof RayError) {
    // Errors of the runtime (a failed dependency, a cancelled get) keep their identity.
    return toErrorInfo(err);
  }
  const cause = toErrorInfo(err);
  return { code: "TASK_ERROR", name: "RayTaskError", message: `Task ${taskName} failed: ${cause.name}: ${cause.message}`, taskName, cause };
}

/** What a cancel(force) of an actor call says, wherever the call runs: an actor's thread or process is never stopped for one call. */
export function forceCancelRefused(taskId: string): string {
  return `cancel(force) is not supported for actor tasks; ${taskId} was left running`;
}
