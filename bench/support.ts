// Shared by every scenario. Scenarios import the built packages (`npm run build`, which `bench/run.ts` runs first),
// so the figures describe the code that ships, not a transpiled-on-the-fly copy.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Counters } from "../packages/maxapi-emulator/dist/index.js";
import { parseDirective } from "../packages/vite-plugin/dist/directive/parse-directive.js";
import { createEngine } from "../packages/vite-plugin/dist/engine/create-engine.js";
import type { DirectiveUse, Engine, EngineDeps } from "../packages/vite-plugin/dist/engine/engine-types.js";
import { resolveOptions } from "../packages/vite-plugin/dist/options/resolve-options.js";

export { median } from "./stats.ts";

export const API_KEY = "sk-bench-0000";

/** Variant of every directive the memory scenario fills and the all-hit scenario reads back. */
export const MEMORY_QUERY = "?w=320";

/** Poll and retry delays for scenarios that only fill a cache: they measure lookups or memory, not the schedule. */
export const FAST_CLIENT = {
  poll: { initialDelayMs: 5, maxDelayMs: 20 },
  minRetryDelayMs: 5,
  maxRetryDelayMs: 20,
} satisfies EngineDeps["client"];

/** The scenario's configuration: the JSON object `bench/run.ts` passes as the first argument. */
export function config<T>(): T {
  const raw = process.argv[2];
  if (!raw)
    throw new TypeError("usage: node bench/<scenario>.ts '<json config>' (normally run by bench/run.ts)");
  return JSON.parse(raw) as T;
}

/** A scenario's result: one JSON line on stdout, read by `bench/run.ts`. */
export function report(result: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

export async function tempRoot(): Promise<{ root: string; remove: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), "grok-bench-"));
  return { root, remove: () => rm(root, { recursive: true, force: true }) };
}

export function engineFor(
  root: string,
  baseUrl: string,
  concurrency: number,
  client?: EngineDeps["client"],
): Engine {
  const options = resolveOptions(
    { apiKey: API_KEY, baseUrl, mode: "generate", concurrency },
    { root, env: {}, command: "build" },
  );
  return createEngine(options, client ? { client } : {});
}

/** `count` directives with distinct prompts, so each one is its own paid generation. */
export function directiveUses(root: string, count: number, prefix: string, query = ""): DirectiveUse[] {
  return Array.from({ length: count }, (_, i) => ({
    directive: parseDirective(`grok:${prefix} number ${i}${query}`, {
      tier: "lite",
      format: "webp",
      quality: 80,
    }),
    importer: join(root, `src/page-${i % 50}.ts`),
  }));
}

/** Queries per task from the emulator's counters. */
export function queryStats(counters: Counters): { tasks: number; maxQueries: number; meanQueries: number } {
  const perTask = Object.values(counters.queriesByTask);
  const total = perTask.reduce((a, b) => a + b, 0);
  return {
    tasks: counters.tasksCreated,
    maxQueries: Math.max(0, ...perTask),
    meanQueries: perTask.length ? total / perTask.length : 0,
  };
}

/** Peaks of one run: as sampled (garbage included) and live (right after a forced full GC). */
export interface MemoryPeaks {
  peakRss: number;
  peakHeap: number;
  /** Largest `heapUsed` right after `global.gc()`: what the process actually retains. */
  peakLiveHeap: number;
  /** Largest `arrayBuffers` right after `global.gc()`: Buffer contents (images), which `heapUsed` does not count. */
  peakLiveArrayBuffers: number;
  /** Forced GCs the live figure rests on. */
  liveSamples: number;
}

/** Memory right after a forced full GC; needs `node --expose-gc`. */
export function liveMemory(): NodeJS.MemoryUsage {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc)
    throw new TypeError("live heap needs `node --expose-gc` (bench/run.ts passes it to the memory scenario)");
  gc();
  return process.memoryUsage();
}

/**
 * Samples RSS and V8 heap every `everyMs` and keeps the peaks; every `liveEveryMs` it also forces a full GC and
 * samples the live heap. The sampled heap peak mostly measures garbage a young-generation GC has not reached yet,
 * which says little about what the process keeps; the live heap is what must not grow with image count.
 */
export function memorySampler(everyMs = 50, liveEveryMs = 1000): { stop: () => MemoryPeaks } {
  let peakRss = 0;
  let peakHeap = 0;
  let peakLiveHeap = 0;
  let peakLiveArrayBuffers = 0;
  let liveSamples = 0;
  const sample = () => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  const sampleLive = () => {
    sample();
    const live = liveMemory();
    peakLiveHeap = Math.max(peakLiveHeap, live.heapUsed);
    peakLiveArrayBuffers = Math.max(peakLiveArrayBuffers, live.arrayBuffers);
    liveSamples++;
  };
  sampleLive();
  const timer = setInterval(sample, everyMs);
  const liveTimer = setInterval(sampleLive, liveEveryMs);
  return {
    stop: () => {
      clearInterval(timer);
      clearInterval(liveTimer);
      sampleLive();
      return { peakRss, peakHeap, peakLiveHeap, peakLiveArrayBuffers, liveSamples };
    },
  };
}

/**
 * Starts the emulator in its own process (its CLI), so the memory it uses to render images is not counted
 * against the engine being measured.
 */
export async function emulatorProcess(args: { latencyMs: number; imageScale: number }): Promise<{
  url: string;
  close: () => Promise<void>;
}> {
  const cli = fileURLToPath(new URL("../packages/maxapi-emulator/dist/cli.js", import.meta.url));
  const child = spawn(
    process.execPath,
    [
      cli,
      "--api-key",
      API_KEY,
      "--latency",
      String(args.latencyMs),
      "--image-scale",
      String(args.imageScale),
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      out += chunk;
      const match = /MAXAPI_BASE_URL=(\S+)/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`the emulator exited early with code ${code}`)));
    child.once("error", reject);
  });
  let closed: Promise<void> | undefined;
  return {
    url,
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        child.removeAllListeners("exit");
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      });
      return closed;
    },
  };
}

/** Runs `worker` over `items`, `limit` at a time, as a bundler loads modules. */
export async function eachLimit<T>(
  items: readonly T[],
  limit: number,
  worker: (item: T) => Promise<unknown>,
) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await worker(items[next++] as T);
    }),
  );
}
