/**
 * Direct actor calls, as Ray's direct actor transport: a thread of the node's process calls an
 * actor that runs in a worker process of its own over a socket to that process (see
 * worker/direct-listener.ts), instead of through the node's main thread, which each call would
 * otherwise cross twice. Only calls whose arguments travel inline (no refs, nothing in shared
 * memory) to actors that take calls concurrently (so their order does not matter) go direct; the
 * first calls of an actor go through the node while its endpoint is looked up.
 *
 * The returns of a direct call are this thread's alone: the node has never heard of them, so no
 * message about them goes to it while they stay here (see ReferenceTracker.isLocal). A return
 * passed on (an argument of another call, inside a value put or returned) is handed to the node
 * first ("own"), which holds it from then on as any other. A result that holds refs or large
 * bodies comes back through the node ("direct-done"). When the connection closes with calls
 * unanswered (the process died), they are handed to the node ("direct-lost"), which retries or
 * fails them exactly as calls it had in flight on that process.
 */
import { forceCancelRefused } from "../common/errors.js";
import { packageVersion } from "../common/version.js";
import type { ObjectValue } from "../object-store/object-table.js";
import type { DirectRoute, FromActor, TaskSpec, ToActor, ToRaylet } from "../rpc/protocol.js";
import { connect, type SocketChannel } from "../rpc/socket-channel.js";

/** After the node said an actor cannot be called directly, how long before asking again. */
const ASK_AGAIN_MS = 1000;

interface Route {
  /** The actor's id (a handle may name it by an alias). */
  actorId: string;
  /** The worker process it runs in. */
  workerId: string;
  channel: SocketChannel<ToActor, FromActor>;
  /** Calls sent and not answered, by task id. */
  pending: Map<string, DirectCall>;
}

interface DirectCall {
  spec: TaskSpec;
  ids: string[];
  route: Route;
}

/** A return of a direct call that the node does not hold (or not yet: `passedOn`). */
interface LocalReturn {
  /** Set while its call is unanswered. */
  call?: DirectCall;
  value?: ObjectValue;
  /** This thread's last ref to it is gone (before its result came). */
  dropped?: boolean;
  /** Handed to the node before its result came: the result follows it there. */
  passedOn?: boolean;
}

export interface DirectCaller {
  workerId: string;
  send(msg: ToRaylet): void;
  request<T>(method: string, ...args: unknown[]): Promise<T>;
  /** A result came: the waits of this thread hear of it. */
  arrived(id: string, value: ObjectValue): void;
}

export class DirectCalls {
  /** By the actor id a handle names: a route, a lookup in progress, or when to ask again. */
  private readonly routes = new Map<string, Route | "looking" | number>();
  private readonly local = new Map<string, LocalReturn>();
  private closed = false;

  constructor(private readonly caller: DirectCaller) {}

  /** Sends the actor call directly if it can; false if it must go through the node. */
  trySend(spec: TaskSpec, ids: string[]): boolean {
    const actorId = spec.actorId!;
    const r = this.routes.get(actorId);
    if (typeof r === "object") {
      spec.actorId = r.actorId;
      const call: DirectCall = { spec, ids, route: r };
      r.pending.set(spec.taskId, call);
      for (let i = 0; i < ids.length; i++) this.local.set(ids[i], { call });
      r.channel.send({ t: "execute", spec });
      return true;
    }
    if (r === undefined || (typeof r === "number" && r <= Date.now())) this.lookUp(actorId);
    return false;
  }

  /** Whether calls to the actor go direct now (for tests and diagnostics). */
  isOpen(actorId: string): boolean {
    return typeof this.routes.get(actorId) === "object";
  }

  /** Whether the node knows nothing of `id`: the release of this thread's refs to it is not its business. */
  readonly isLocal = (id: string): boolean => {
    const l = this.local.get(id);
    return l !== undefined && !l.passedOn;
  };

  /** This thread's last ref to a local return is gone. */
  dropped(id: string): void {
    const l = this.local.get(id);
    if (!l || l.passedOn) return;
    if (l.call) l.dropped = true;
    else this.local.delete(id);
  }

  /** `id` leaves this thread (in an argument or a value): the node must hold it first. */
  passOn(id: string): void {
    const l = this.local.get(id);
    if (!l || l.passedOn) return;
    if (l.call) {
      l.passedOn = true;
      this.caller.send({ t: "own", entries: [[id, undefined]] });
    } else {
      this.local.delete(id);
      this.caller.send({ t: "own", entries: [[id, l.value]] });
    }
  }

  /** Cancels a direct call whose return is `id`; false if `id` is none (the node cancels it). */
  cancel(id: string, force: boolean): boolean {
    const call = this.local.get(id)?.call;
    if (!call) return this.local.has(id);
    // As the node answers for calls it runs.
    if (force) process.stderr.write(`${forceCancelRefused(call.spec.taskId)}\n`);
    else call.route.channel.send({ t: "cancel-task", taskId: call.spec.taskId });
    return true;
  }

  /**
   * The node sent `id` (or said it is sealed): if it is a return of a direct call, that call's
   * results came through the node, which holds them for this thread from now on.
   */
  viaNode(id: string): void {
    const call = this.local.get(id)?.call;
    if (!call) return;
    call.route.pending.delete(call.spec.taskId);
    this.handedToNode(call);
  }

  close(): void {
    this.closed = true;
    for (const r of this.routes.values()) if (typeof r === "object") r.channel.close();
    this.routes.clear();
    this.local.clear();
  }

  private lookUp(actorId: string): void {
    this.routes.set(actorId, "looking");
    const askAgain = () => {
      if (!this.closed) this.routes.set(actorId, Date.now() + ASK_AGAIN_MS);
    };
    this.caller.request<DirectRoute | null>("directEndpoint", actorId).then(async (at) => {
      if (!at || this.closed) return askAgain();
      const { channel } = await connect<ToActor, FromActor>({ path: at.path, token: at.token, version: packageVersion(), role: "caller", info: { workerId: this.caller.workerId } });
      if (this.closed) return channel.close();
      channel.unref();
      const route: Route = { actorId: at.actorId, workerId: at.workerId, channel, pending: new Map() };
      channel.onMessage((msg) => this.answered(route, msg));
      channel.onClose(() => this.lost(actorId, route));
      this.routes.set(actorId, route);
    }).catch(askAgain);
  }

  private answered(route: Route, msg: FromActor): void {
    const call = route.pending.get(msg.taskId);
    if (!call) return;
    route.pending.delete(msg.taskId);
    const { results } = msg;
    const failure = results.length === 1 && !results[0].ok ? results[0] : undefined;
    for (let i = 0; i < call.ids.length; i++) {
      const id = call.ids[i];
      const value = failure ?? results[i];
      const l = this.local.get(id)!;
      if (l.passedOn) {
        this.local.delete(id);
        this.caller.send({ t: "own", entries: [[id, value]], late: true });
      } else if (l.dropped) this.local.delete(id);
      else {
        l.call = undefined;
        l.value = value;
      }
      this.caller.arrived(id, value);
    }
  }

  /** The connection closed: its unanswered calls go to the node, and the next call looks the actor up again. */
  private lost(actorId: string, route: Route): void {
    if (this.routes.get(actorId) === route) this.routes.delete(actorId);
    if (this.closed || !route.pending.size) return;
    const calls = [...route.pending.values()];
    route.pending.clear();
    this.caller.send({ t: "direct-lost", actorId: route.actorId, workerId: route.workerId, specs: calls.map((c) => c.spec) });
    for (const call of calls) this.handedToNode(call);
  }

  /**
   * The node holds the call's returns for this thread now (with a hold of its own, as for any
   * call it ran): those this thread let go of meanwhile are released there.
   */
  private handedToNode(call: DirectCall): void {
    const gone = call.ids.filter((id) => this.local.get(id)?.dropped);
    for (const id of call.ids) this.local.delete(id);
    if (gone.length) this.caller.send({ t: "remove-ref", ids: gone });
  }
}
