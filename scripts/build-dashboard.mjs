// Bundles the dashboard's front end (src/dashboard/ui/) into dist/dashboard-ui/: index.html,
// app.js and app.css, with Preact and uPlot inside, so the page loads nothing from elsewhere.
// The head serves that folder (src/dashboard/static-routes.ts).
import { build } from "esbuild";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
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
