/** Dataset.inputFiles(): the files a plan's read sources would read, listed as a read lists them. */
import type { Plan } from "../plan.js";
import { listFiles } from "./list-files.js";

export async function inputFilesOf(plan: Plan): Promise<string[]> {
  const source = plan.source;
  if (source.kind === "files") return (await listFiles(source.paths, source.list)).map((f) => f.path);
  if (source.kind === "union") return (await Promise.all(source.plans.map(inputFilesOf))).flat();
  if (source.kind === "allToAll") return inputFilesOf(source.input);
  if (source.kind === "zip") return [...(await inputFilesOf(source.left)), ...(await inputFilesOf(source.right))];
  return [];
}
