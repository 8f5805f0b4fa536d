// Bundles the dashboard's front end (src/dashboard/ui/) into dist/dashboard-ui/: index.html,
// app.js and app.css, with Preact and uPlot inside, so the page loads nothing from elsewhere.
// The head serves that folder (src/dashboard/static-routes.ts).
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const ui = join(root, "src", "dashboard", "ui");
const out = join(root, "dist", "dashboard-ui");

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: join(ui, "main.tsx") },
  outdir: out,
  bundle: true,
  minify: true,
  format: "iife",
  target: ["chrome110", "firefox110", "safari16"],
  jsx: "automatic",
  jsxImportSource: "preact",
  legalComments: "eof",
  logLevel: "warning",
});
copyFileSync(join(ui, "index.html"), join(out, "index.html"));
// The bundled libraries' licenses (MIT), shipped beside the bundle that contains them.
const notices = ["preact", "uplot"].map((name) => `${name}\n\n${readFileSync(join(root, "node_modules", name, "LICENSE"), "utf8")}`);
writeFileSync(join(out, "THIRD-PARTY-LICENSES.txt"), notices.join("\n---\n\n"));
