/**
 * Puts an idle worker thread to sleep on its doorbell (see rpc/doorbell.ts) rather than in its
 * event loop, so the next message wakes it fast. Only when the thread is truly idle: no task
 * running and nothing else alive in its event loop (a user's timer, socket or file operation
 * would stall while the thread sleeps, so then it stays in the loop).
 */
import type { PortChannel } from "../rpc/channel.js";
import type { Doorbell } from "../rpc/doorbell.js";

/** How long one sleep lasts before the thread looks around its event loop again. */
const SLEEP_MS = 200;
/** How long an idle thread watches its bell before it sleeps. */
const SPIN_MS = 0.3;

export function sleepWhenIdle(bell: Doorbell, channel: PortChannel<unknown, unknown>, isIdle: () => boolean): () => void {
  let scheduled = false;
  const tick = () => {
    scheduled = false;
    if (!isIdle() || !loopIsEmpty()) return;
    const seen = bell.rings();
    // Messages that arrived before we looked are handled now rather than slept over.
    channel.drain();
    if (!isIdle()) return;
    // Work often comes back within a round trip (a driver calling get in a loop): watching the
    // bell for a moment first spares both sides a sleep and a wake-up.
    if (bell.watch(seen, SPIN_MS) || bell.sleep(seen, SLEEP_MS)) channel.drain();
    // Still idle (or woken by a message that started nothing): sleep again after this turn.
    if (isIdle()) idle();
  };
  const idle = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(tick);
  };
  return idle;
}

/** Nothing but message ports (ours, and the thread's own stdio) keeps the event loop busy. */
function loopIsEmpty(): boolean {
  return process.getActiveResourcesInfo().every((r) => r === "MessagePort");
}
