// Cold batch: `directives` distinct generations, `concurrency` at a time, against an emulator whose tasks take
// `latencyMs`, with the client's DEFAULT poll schedule (the point is to measure the schedule that ships).
import { startEmulator } from "../packages/maxapi-emulator/dist/index.js";
import { API_KEY, config, directiveUses, engineFor, queryStats, report, tempRoot } from "./support.ts";

interface ColdConfig {
  latencyMs: number;
  directives: number;
  concurrency: number;
}

const { latencyMs, directives, concurrency } = config<ColdConfig>();
// Small images keep the emulator's rendering and the downloads out of a measurement about waiting.
const emulator = await startEmulator({ apiKeys: [API_KEY], latencyMs, imageScale: 0.25 });
const { root, remove } = await tempRoot();
try {
  const engine = engineFor(root, emulator.url, concurrency);
  const uses = directiveUses(root, directives, `cold batch at ${latencyMs} ms`);
  const started = performance.now();
  const summary = await engine.prepare(uses);
  const wallMs = performance.now() - started;
  await engine.close();
  if (summary.generated !== directives || summary.failed !== 0) {
    throw new Error(`expected ${directives} generations, got ${JSON.stringify(summary)}`);
  }
  const idealMs = Math.ceil(directives / concurrency) * latencyMs;
  report({
    latencyMs,
    directives,
    concurrency,
    wallMs,
    idealMs,
    ratio: wallMs / idealMs,
    ...queryStats(emulator.counters),
  });
} finally {
  await emulator.close();
  await remove();
}
