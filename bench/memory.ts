// Peak memory of a cold build: `directives` generations downloaded, stored and derived, with RSS and heap sampled
// every 50 ms and the live heap (after a forced GC) every second. Run with `node --expose-gc`. The emulator runs in
// its own process so only the engine's memory is measured.
import { mkdir } from "node:fs/promises";
import {
  config,
  directiveUses,
  eachLimit,
  emulatorProcess,
  engineFor,
  FAST_CLIENT,
  liveMemory,
  MEMORY_QUERY,
  memorySampler,
  report,
  tempRoot,
} from "./support.ts";

interface MemoryConfig {
  directives: number;
  imageScale: number;
  /** Keep the filled cache in this project root for the all-hit scenario instead of deleting it. */
  keepRoot?: string;
}

const { directives, imageScale, keepRoot } = config<MemoryConfig>();
// The baseline is the process with the packages loaded, garbage of the imports collected.
const baseline = liveMemory();
const emulator = await emulatorProcess({ latencyMs: 20, imageScale });
const temp = keepRoot ? undefined : await tempRoot();
const root = keepRoot ?? (temp?.root as string);
await mkdir(root, { recursive: true });
try {
  const uses = directiveUses(root, directives, "memory", MEMORY_QUERY);
  const engine = engineFor(root, emulator.url, 8, FAST_CLIENT);
  const sampler = memorySampler(50);
  const started = performance.now();
  const summary = await engine.prepare(uses);
  const prepareMs = performance.now() - started;
  // Variants are derived as a bundler loads modules: a handful at a time, each image used then released.
  await eachLimit(uses, 8, (use) => engine.images(use));
  const totalMs = performance.now() - started;
  const { peakRss, peakHeap, peakLiveHeap, peakLiveArrayBuffers, liveSamples } = sampler.stop();
  // Every image is derived and nothing is in flight, the engine still open: the Buffers left now are the ones the
  // build keeps. Their sampled peak also counts the downloads and encodes of the moment, bounded by the concurrency
  // but caught more often in a longer run, so it cannot say what grows with the image count.
  const kept = liveMemory();
  await engine.close();
  if (summary.generated !== directives)
    throw new Error(`expected ${directives} generations, got ${summary.generated}`);
  report({
    directives,
    imageScale,
    prepareMs,
    totalMs,
    baselineRss: baseline.rss,
    baselineHeap: baseline.heapUsed,
    peakRss,
    peakHeap,
    baselineLiveHeap: baseline.heapUsed,
    peakLiveHeap,
    baselineArrayBuffers: baseline.arrayBuffers,
    peakLiveArrayBuffers,
    keptArrayBuffers: kept.arrayBuffers,
    liveSamples,
  });
} finally {
  await emulator.close();
  await temp?.remove();
}
