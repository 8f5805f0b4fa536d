/**
 * A replica's report of the multiplexed model ids it holds (multiplexed.ts keeps them): sent to
 * the controller at every change, which publishes them to the routers with the replica list
 * (as Ray's replicas push theirs), so calls with a model id prefer the replicas that hold it
 * (model-choice.ts). One report in flight at a time, always of the latest list; a failed one (the
 * controller restarting) is sent again.
 */
import * as ray from "tsray";
import { getController } from "./controller-client.js";
import { loadedModelIds, onLoadedModelIdsChange } from "./multiplexed.js";

export interface ReportingReplica {
  appName: string;
  deployment: string;
  replicaId: string;
}

/** Reports this process's loaded model ids on every change; returns the function that stops it. */
export function reportLoadedModels(replica: ReportingReplica): () => void {
  let sending = false;
  let again = false;
  let stopped = false;
  const send = async (): Promise<void> => {
    if (sending) {
      again = true;
      return;
    }
    sending = true;
    try {
      for (let failures = 0; !stopped && failures < 30;) {
        again = false;
        try {
          const controller = await getController();
          await ray.get(controller.recordModelIds.remote(replica.appName, replica.deployment, replica.replicaId, loadedModelIds()));
          failures = 0;
        } catch {
          failures++;
          again = true;
          await new Promise((r) => setTimeout(r, Math.min(1000, 100 * failures)).unref());
        }
        if (!again) break;
      }
    } finally {
      sending = false;
    }
  };
  const unsubscribe = onLoadedModelIdsChange(() => void send());
  return () => {
    stopped = true;
    unsubscribe();
  };
}
