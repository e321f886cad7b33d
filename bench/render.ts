// `node bench/render.ts`: writes the results file of the last `bench/run.ts` again from the figures it kept
// (bench/results/last-run.json), for a change to how they are presented; nothing is measured.
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { type RunInfo, renderResults, type ScenarioResult } from "./render-results.ts";

const file = fileURLToPath(new URL("./results/last-run.json", import.meta.url));
const { target, run, results } = JSON.parse(await readFile(file, "utf8")) as {
  target: string;
  run: RunInfo;
  results: ScenarioResult[];
};
await writeFile(target, renderResults(results, run));
process.stderr.write(`wrote ${target} from ${file}\n`);
