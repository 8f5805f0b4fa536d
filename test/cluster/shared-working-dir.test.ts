// A folder one driver uploaded (as a task's runtimeEnv.workingDir) serves the actors that an
// actor of another job creates in it for that driver: the detached actor of a driver that has
// gone creates them in the cluster's copy, as tsray Serve's controller creates the replicas of a
// `tsray serve deploy` that names a working directory.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { clusterFolder, DRIVER_ARGS, result } from "../helpers/cluster.js";

const { tmp, run, tsray } = clusterFolder();
const sharedDirDriver = fileURLToPath(new URL("../fixtures/cluster/shared-dir-driver.ts", import.meta.url));

before(async () => {
  const started = await tsray("start", "--head", "--port", "0", "--num-cpus", "2", "--include-dashboard", "false");
  assert.equal(started.code, 0, started.stderr);
});

after(async () => {
  await tsray("stop", "--force");
  rmSync(tmp, { recursive: true, force: true });
});

test("an actor another job creates in a driver's uploaded folder runs in the cluster's copy of it", async () => {
  const folder = mkdtempSync(path.join(tmp, "folder-"));
  writeFileSync(path.join(folder, "data.txt"), "the driver's file");
  assert.deepEqual(result(await run(sharedDirDriver, ["holder", folder], DRIVER_ARGS)), { ready: true });
  const r = result(await run(sharedDirDriver, ["user", folder], DRIVER_ARGS)) as { uploaded: string; cwd: string; data: string };
  assert.notEqual(r.uploaded, folder, "the driver's own task runs in the uploaded copy");
  assert.equal(r.cwd, r.uploaded, "so does the actor the other job's actor created");
  assert.equal(r.data, "the driver's file");
});
