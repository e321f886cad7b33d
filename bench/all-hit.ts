// All-hit batch: time `prepare()` + `images()` of `directives` directives whose generations and variants are all
// in the cache, with an emulator that counts zero requests. The cache is the one the memory scenario filled
// (`root`), or one filled here with tiny images and short poll delays.
import { startEmulator } from "../packages/maxapi-emulator/dist/index.js";
import type { DirectiveUse, Engine } from "../packages/vite-plugin/dist/engine/engine-types.js";
import {
  API_KEY,
  config,
  directiveUses,
  eachLimit,
  engineFor,
  FAST_CLIENT,
  MEMORY_QUERY,
  report,
  tempRoot,
} from "./support.ts";

interface AllHitConfig {
  directives: number;
  /** A project root whose cache already holds these directives (see memory.ts). */
  root?: string;
}

const { directives, root: filledRoot } = config<AllHitConfig>();
const emulator = await startEmulator({ apiKeys: [API_KEY], latencyMs: 20, imageScale: 0.125 });
const temp = filledRoot ? undefined : await tempRoot();
const root = filledRoot ?? (temp?.root as string);

/** Resolves every directive the way a build does: one batch `prepare()`, then `images()` per module. */
async function build(engine: Engine, uses: readonly DirectiveUse[]): Promise<number> {
  const started = performance.now();
  await engine.prepare(uses);
  await eachLimit(uses, 16, (use) => engine.images(use));
  return performance.now() - started;
}

try {
  const uses = directiveUses(root, directives, "memory", MEMORY_QUERY);
  if (!filledRoot) {
    const filling = engineFor(root, emulator.url, 32, FAST_CLIENT);
    await build(filling, uses);
    await filling.close();
    if (emulator.counters.tasksCreated !== directives) throw new Error("the cache was not filled");
  }

  emulator.reset();
  // A fresh engine, as a new `vite build` starts: it opens the cache and reads the manifest.
  const warm = engineFor(root, emulator.url, 32);
  const freshMs = await build(warm, uses);
  // The same engine again, as a dev server re-resolving every module: the pure in-memory hit path.
  const againMs = await build(warm, uses);
  await warm.close();
  const { submits, queries, downloads } = emulator.counters;
  if (submits + queries + downloads !== 0)
    throw new Error(`an all-hit run made ${submits + queries + downloads} requests`);

  report({
    directives,
    freshEngineMs: freshMs,
    sameEngineMs: againMs,
    freshUsPerDirective: (freshMs * 1000) / directives,
    sameUsPerDirective: (againMs * 1000) / directives,
    requests: submits + queries + downloads,
  });
} finally {
  await emulator.close();
  await temp?.remove();
}
