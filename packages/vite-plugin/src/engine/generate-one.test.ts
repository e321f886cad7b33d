import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../../maxapi-emulator/src/index.js";
import { createMaxApiClient } from "../api/maxapi-client.js";
import { type ImageCache, openCache } from "../cache/image-cache.js";
import { parseDirective } from "../directive/parse-directive.js";
import { resolveOptions } from "../options/resolve-options.js";
import type { Generation } from "../types.js";
import type { EngineEvent } from "./engine-types.js";
import { formatEvent } from "./format-event.js";
import { generateOne } from "./generate-one.js";

const KEY = "sk-generate-one-test-8c2a";
let emu: Emulator;
let root: string;

beforeAll(async () => {
  emu = await startEmulator({ apiKeys: [KEY], latencyMs: 60, imageScale: 0.25 });
});
afterAll(() => emu.close());
beforeEach(async () => {
  emu.reset();
  root = await mkdtemp(join(tmpdir(), "grok-generate-one-"));
});
afterEach(() => rm(root, { recursive: true, force: true }));

interface GenerateTestOptions {
  slowDownloadMs?: number;
  /** Stands in for the cache, e.g. to make one of its writes fail. */
  wrapCache?: (cache: ImageCache) => ImageCache;
}

/**
 * Generates one directive and returns the events it emitted, the log lines they make, the submits counted as
 * paid, and the error, if any.
 */
async function generate(raw: string, { slowDownloadMs, wrapCache }: GenerateTestOptions = {}) {
  const options = resolveOptions(
    { apiKey: KEY, baseUrl: emu.url, mode: "generate" },
    { root, env: {}, command: "build" },
  );
  const client = createMaxApiClient({
    apiKey: KEY,
    baseUrl: emu.url,
    // Polls often enough to see the emulator walk PENDING, PROCESSING and SUBMITTED.
    poll: { initialDelayMs: 5, maxDelayMs: 10 },
    minRetryDelayMs: 5,
    maxRetryDelayMs: 20,
  });
  const events: EngineEvent[] = [];
  const charged: Generation[] = [];
  const directive = parseDirective(raw, { tier: "lite", format: "webp", quality: 80 });
  const cache = await openCache(options.cacheDir);
  let error: unknown;
  try {
    await generateOne(directive.generationKey, directive.generation, {
      cache: wrapCache ? wrapCache(cache) : cache,
      client,
      options,
      emit: (event) => events.push(event),
      signal: undefined,
      reserve: () => {},
      charge: (generation) => charged.push(generation),
      ...(slowDownloadMs === undefined ? {} : { slowDownloadMs }),
    });
  } catch (caught) {
    error = caught;
  } finally {
    await client.close();
  }
  const lines = events.map(formatEvent).filter((line) => line !== undefined);
  return { events, lines, charged, error };
}

describe("generateOne: what the log says", () => {
  it("says submitted once with the task id, generating at most once, then done", async () => {
    const { events, lines, error } = await generate("grok:a fox in the snow");
    expect(error).toBeUndefined();
    // The API's own statuses are all reported (consumers may want them) ...
    const tasks = events.flatMap((e) => (e.type === "task" ? [e] : []));
    const states = tasks.map((e) => e.state);
    expect(states).toContain("SUCCESS");
    expect(states.filter((s) => s === "submitted")).toHaveLength(1);
    // ... but only the ones that say something new make a line.
    const taskId = tasks.find((e) => e.state === "submitted")?.taskId;
    expect(taskId).toBeTruthy();
    expect(lines[0]).toBe(`submitted "a fox in the snow" [lite] task ${taskId}`);
    expect(lines.at(-1)).toMatch(
      new RegExp(`^done "a fox in the snow" \\[lite\\] task ${taskId} \\(1 image in [\\d.]+ s\\)$`),
    );
    expect(lines.length).toBeLessThanOrEqual(3);
    if (lines.length === 3) expect(lines[1]).toBe(`generating "a fox in the snow" [lite] task ${taskId}`);
    expect(lines.join("\n")).not.toMatch(/downloading|pending|success/i);
  });

  it("says downloading only when the download is slow", async () => {
    emu.inject({ phase: "download", fault: { type: "delay", ms: 300 } });
    const { lines } = await generate("grok:a slow boat?n=2", { slowDownloadMs: 100 });
    const downloading = lines.filter((line) => line.startsWith("downloading"));
    expect(downloading).toHaveLength(1);
    expect(downloading[0]).toMatch(
      /^downloading "a slow boat" \[lite\] task \S+ \(2 images, still going after 0\.1 s\)$/,
    );
    expect(lines.at(-1)).toMatch(/^done "a slow boat" .*\(2 images in/);
  });
});

describe("generateOne: what is counted as paid", () => {
  it("counts a task that succeeded but could not be stored, and leaves it journaled for a free retry", async () => {
    const full = Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
    const { charged, error } = await generate("grok:a full disk", {
      // Every other method is the real cache's.
      wrapCache: (cache) =>
        new Proxy(cache, {
          get: (target, name, receiver) =>
            name === "storeOriginal"
              ? () => Promise.reject(full)
              : (Reflect.get(target, name, receiver) as unknown),
        }),
    });
    expect(error).toBe(full);
    expect(emu.counters.submits).toBe(1);
    expect(charged.map((g) => g.prompt)).toEqual(["a full disk"]);
    expect(await readdir(join(root, ".grok-images/pending"))).toHaveLength(1);
  });

  it("counts both submits of a FAILURE that was submitted once more", async () => {
    emu.inject({
      phase: "submit",
      times: 1,
      fault: { type: "outcome", status: "FAILURE", failureReason: null },
    });
    const { charged, error, lines } = await generate("grok:a second chance");
    expect(error).toBeUndefined();
    expect(emu.counters.submits).toBe(2);
    expect(charged).toHaveLength(emu.counters.submits);
    expect(lines.join("\n")).toContain("submitting once more as a new paid task");
  });
});
