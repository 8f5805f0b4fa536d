// Copies the plain .mjs files that tsc does not emit (worker bootstrap, module hooks) into dist/.
import { cpSync, readdirSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
for (const dir of ["worker", "core-worker/function-manager"]) {
  for (const file of readdirSync(join(root, "src", dir))) {
    if (file.endsWith(".mjs") || file.endsWith(".d.mts")) cpSync(join(root, "src", dir, file), join(root, "dist", dir, file));
  }
}
