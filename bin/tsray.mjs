#!/usr/bin/env node
// The tsray command: see src/cli/main.ts.
import { main } from "../dist/cli/main.js";

await main(process.argv.slice(2));
