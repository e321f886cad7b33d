import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../../maxapi-emulator/src/index.js";
import { parseDirective } from "../directive/parse-directive.js";
import { GrokImageError } from "../errors.js";
import { resolveOptions } from "../options/resolve-options.js";
import type { GrokImageOptions } from "../types.js";
import { createEngine } from "./create-engine.js";
import type { DirectiveUse, EngineEvent } from "./engine-types.js";
import { formatEvent } from "./format-event.js";

const KEY = "sk-engine-test-5f1e2d";
let emu: Emulator;
let root: string;

beforeAll(async () => {
  emu = await startEmulator({ apiKeys: [KEY], latencyMs: 40, imageScale: 0.25 });
});
afterAll(() => emu.close());
beforeEach(async () => {
  emu.reset();
  root = await mkdtemp(join(tmpdir(), "grok-engine-"));
});
afterEach(() => rm(root, { recursive: true, force: true }));

function engineFor(opts: GrokImageOptions = {}, events: EngineEvent[] = [], signal?: AbortSignal) {
  const options = resolveOptions(
    { apiKey: KEY, baseUrl: emu.url, mode: "generate", ...opts },
    { root, env: {}, command: "build" },
  );
  return createEngine(options, {
    onEvent: (e) => events.push(e),
    client: { poll: { initialDelayMs: 10, maxDelayMs: 40 }, minRetryDelayMs: 5, maxRetryDelayMs: 20 },
    ...(signal ? { signal } : {}),
  });
}

const use = (raw: string): DirectiveUse => ({
  directive: parseDirective(raw, { tier: "lite", format: "webp", quality: 80 }),
  importer: join(root, "src/page.ts"),
});

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe("engine against the emulator", () => {
  it("generates each generation key once, derives variants, and a second run is all hits with zero requests", async () => {
    const uses = [
      use("grok:a misty forest at dawn?w=200"),
      use("grok:a   misty forest at dawn?w=100&format=png"),
      use("grok:a red kite over hills?n=2&format=jpeg"),
    ];
    const events: EngineEvent[] = [];
    const engine = engineFor({}, events);
    const summary = await engine.prepare(uses);
    expect(summary).toMatchObject({ directives: 3, hits: 0, generated: 2, failed: 0 });
    expect(summary.costUsd).toBeCloseTo(0.003, 6);
    expect(emu.counters.tasksCreated).toBe(2);
    expect(emu.counters.cdnAuthorizationHeaders).toBe(0);

    const [small] = await engine.images(uses[1] as DirectiveUse);
    const meta = await sharp(small?.file).metadata();
    expect(meta.format).toBe("png");
    expect(meta.width).toBe(100);
    expect(small?.status).toBe("generated");
    const kites = await engine.images(uses[2] as DirectiveUse);
    expect(kites).toHaveLength(2);
    expect(kites.map((k) => k.index)).toEqual([0, 1]);
    await engine.close();

    // The build that derived the variants leaves them in this machine's record: the next build stats each one
    // instead of hashing it.
    const derived = (await readdir(join(root, ".grok-images/variants"))).filter((f) => !f.endsWith(".json"));
    expect(derived).toHaveLength(3);
    const record = JSON.parse(
      await readFile(join(root, ".grok-images/locks/verified-variants.json"), "utf8"),
    );
    expect(Object.keys(record.variants).sort()).toEqual(derived.map((f) => f.replace(/\.\w+$/, "")).sort());

    const manifest = JSON.parse(await readFile(join(root, ".grok-images/manifest.json"), "utf8"));
    expect(Object.keys(manifest)).toHaveLength(2);
    expect(events.map(formatEvent).join("\n")).toContain("2 to generate");

    emu.reset();
    const again = engineFor();
    const second = await again.prepare(uses);
    expect(second).toMatchObject({ hits: 2, generated: 0 });
    const [cached] = await again.images(uses[1] as DirectiveUse);
    expect(cached?.status).toBe("cached");
    expect(cached?.file).toBe(small?.file);
    expect(emu.counters.submits + emu.counters.queries + emu.counters.downloads).toBe(0);
    await again.close();
  });

  it("frozen mode lists every missing directive with its cost and calls nothing", async () => {
    const engine = engineFor({ mode: "frozen" });
    const error = await engine
      .prepare([use("grok:a frozen lake?tier=pro&n=2"), use("grok:a dune")])
      .catch((e) => e);
    expect(GrokImageError.isInstance(error) && error.code).toBe("GROK_FROZEN_MISS");
    expect(error.message).toContain("grok:a frozen lake?tier=pro&n=2");
    expect(error.message).toContain("grok:a dune");
    expect(error.message).toContain("would cost about $0.004)");
    expect(error.message).toContain("$0.003");
    expect(error.message).toContain("src/page.ts");
    expect(emu.counters.submits).toBe(0);
  });

  it("refuses a batch over maxCost before submitting anything, and asks for a key when none is set", async () => {
    const budget = await engineFor({ maxCost: 0.002 })
      .prepare([use("grok:a?tier=pro&n=2"), use("grok:b")])
      .catch((e) => e);
    expect(budget.code).toBe("GROK_BUDGET_EXCEEDED");
    const options = resolveOptions(
      { baseUrl: emu.url, mode: "generate" },
      { root, env: {}, command: "build" },
    );
    const noKey = await createEngine(options)
      .prepare([use("grok:c")])
      .catch((e) => e);
    expect(noKey.code).toBe("GROK_NO_API_KEY");
    expect(noKey.hint).toContain("MAXAPI_KEY");
    expect(emu.counters.submits).toBe(0);
  });

  it("placeholder mode derives local placeholders without any request", async () => {
    const events: EngineEvent[] = [];
    const engine = engineFor({ mode: "placeholder" }, events);
    const u = use("grok:a lighthouse?w=120&n=2");
    await engine.prepare([u]);
    const images = await engine.images(u);
    expect(images.map((i) => i.status)).toEqual(["placeholder", "placeholder"]);
    expect((await sharp(images[0]?.file).metadata()).width).toBe(120);
    expect(events.some((e) => e.type === "warn" && e.message.includes("grok:a lighthouse"))).toBe(true);
    expect(emu.counters.submits + emu.counters.queries).toBe(0);
  });

  it("rides out 429 and 5xx storms with no extra paid task", async () => {
    emu.inject({ phase: "submit", times: 2, fault: { type: "http", status: 429, retryAfter: 0 } });
    emu.inject({ phase: "submit", times: 1, fault: { type: "http", status: 503 } });
    emu.inject({ phase: "query", times: 4, fault: { type: "http", status: 502 } });
    emu.inject({ phase: "download", times: 2, fault: { type: "http", status: 500 } });
    const uses = ["grok:storm one", "grok:storm two", "grok:storm three"].map(use);
    const summary = await engineFor({ concurrency: 2 }).prepare(uses);
    expect(summary).toMatchObject({ generated: 3, failed: 0 });
    expect(emu.counters.tasksCreated).toBe(3);
  });

  it("resumes a task journaled by a killed run instead of paying again", async () => {
    emu.configure({ latencyMs: 400 });
    const controller = new AbortController();
    const events: EngineEvent[] = [];
    const first = engineFor({}, events, controller.signal);
    const u = use("grok:an interrupted sunset");
    const run = first.prepare([u]);
    while (!events.some((e) => e.type === "task" && e.state === "submitted"))
      await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    await run.catch(() => undefined);
    await first.close();
    expect(await readdir(join(root, ".grok-images/pending"))).toHaveLength(1);

    const resumed: EngineEvent[] = [];
    const second = engineFor({}, resumed);
    await second.prepare([u]);
    expect(resumed.some((e) => e.type === "task" && e.state === "resumed")).toBe(true);
    expect(emu.counters.tasksCreated).toBe(1);
    expect(await second.images(u)).toHaveLength(1);
    expect(await readdir(join(root, ".grok-images/pending"))).toHaveLength(0);
  });

  it("counts downloads in the task timeout, and the next run downloads the paid task without paying again", async () => {
    emu.inject({ phase: "download", times: 1, fault: { type: "delay", ms: 3000 } });
    const u = use("grok:a slow download");
    const first = engineFor({ timeout: 0.5 });
    const summary = await first.prepare([u]);
    expect(summary.failed).toBe(1);
    const error = await first.images(u).catch((e) => e);
    expect(error.code).toBe("GROK_TIMEOUT");
    expect(error.message).toContain("a slow download");
    expect(error.hint).toContain("resume");
    await first.close();
    expect(await readdir(join(root, ".grok-images/pending"))).toHaveLength(1);

    const second = engineFor();
    await second.prepare([u]);
    expect(await second.images(u)).toHaveLength(1);
    expect(emu.counters.tasksCreated).toBe(1);
  });

  it("re-submits a journaled task whose result URLs expired, once, instead of staying stuck on it", async () => {
    emu.configure({ latencyMs: 400 });
    const controller = new AbortController();
    const events: EngineEvent[] = [];
    const u = use("grok:an expired journal");
    const run = engineFor({}, events, controller.signal).prepare([u]);
    while (!events.some((e) => e.type === "task" && e.state === "submitted"))
      await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    await run.catch(() => undefined);

    emu.inject({ phase: "download", times: 1, fault: { type: "expired" } });
    const later: EngineEvent[] = [];
    const engine = engineFor({}, later);
    expect(await engine.prepare([u])).toMatchObject({ generated: 1, failed: 0 });
    expect(
      later.some((e) => e.type === "task" && e.state === "retrying" && e.detail?.includes("expired")),
    ).toBe(true);
    expect(emu.counters.tasksCreated).toBe(2);
    expect(await readdir(join(root, ".grok-images/pending"))).toHaveLength(0);
  });

  it("holds maxCost over every batch of the build, and concurrency over concurrent batches", async () => {
    const events: EngineEvent[] = [];
    const engine = engineFor({ maxCost: 0.003, concurrency: 2 }, events);
    await Promise.all([
      engine.prepare(["grok:budget one", "grok:budget two"].map(use)),
      engine.prepare(["grok:budget three"].map(use)),
    ]);
    // A task holds its place from its submit until it is terminal (its download runs outside it).
    const inFlight = new Set<string>();
    let most = 0;
    for (const e of events) {
      if (e.type !== "task") continue;
      if (e.state === "submitted") inFlight.add(e.key);
      if (["SUCCESS", "FAILURE", "TIMEOUT", "CANCELLED", "failed"].includes(e.state)) inFlight.delete(e.key);
      most = Math.max(most, inFlight.size);
    }
    expect(most).toBe(2);
    const over = await engine.prepare([use("grok:budget four")]).catch((e) => e);
    expect(over.code).toBe("GROK_BUDGET_EXCEEDED");
    expect(over.message).toContain("already committed");
    expect(emu.counters.tasksCreated).toBe(3);
  });

  it("two engines on one cache directory pay once per key", async () => {
    const uses = ["grok:shared one", "grok:shared two", "grok:shared three"].map(use);
    const [a, b] = await Promise.all([engineFor().prepare(uses), engineFor().prepare(uses)]);
    expect(emu.counters.tasksCreated).toBe(3);
    expect(a.generated + b.generated).toBe(3);
  });

  it("detects a damaged original and regenerates it in generate mode", async () => {
    const u = use("grok:a cracked vase?w=64");
    const engine = engineFor();
    await engine.prepare([u]);
    const originals = await readdir(join(root, ".grok-images/originals"));
    await writeFile(
      join(root, ".grok-images/originals", originals[0] as string),
      "not the bytes we paid for",
    );
    // No intact copy anywhere: not on disk, and MaxAPI no longer knows the task (so its result URLs are gone too).
    emu.reset();
    const fresh = engineFor();
    await expect(fresh.prepare([u])).resolves.toMatchObject({ hits: 1 });
    const [image] = await fresh.images(u);
    expect((await sharp(image?.file).metadata()).width).toBe(64);
    expect(emu.counters.tasksCreated).toBe(1);

    // frozen: reported, never regenerated
    await rm(join(root, ".grok-images/variants"), { recursive: true });
    const current = await readdir(join(root, ".grok-images/originals"));
    for (const f of current) await writeFile(join(root, ".grok-images/originals", f), "damaged");
    const frozen = engineFor({ mode: "frozen" });
    await frozen.prepare([u]);
    const error = await frozen.images(u).catch((e) => e);
    expect(error.code).toBe("GROK_CACHE_CORRUPT");
    expect(error.hint).toContain("grok-image verify");
  });

  it("cachedImages serves a cached generation without a plan and never pays: a miss or a damaged original is left to images()", async () => {
    const cached = use("grok:a cached teapot?w=48");
    const first = engineFor();
    await first.prepare([cached]);
    const [made] = await first.images(cached);
    await first.close();
    emu.reset();

    const events: EngineEvent[] = [];
    const engine = engineFor({}, events);
    const [hit] = (await engine.cachedImages(cached)) ?? [];
    expect(hit).toMatchObject({ file: made?.file, width: 48, status: "cached" });
    expect(await engine.cachedImages(use("grok:a teapot nobody generated"))).toBeUndefined();
    engine.report();
    expect(events.find((e) => e.type === "summary")).toMatchObject({ summary: { directives: 1, hits: 1 } });

    const originals = await readdir(join(root, ".grok-images/originals"));
    await writeFile(
      join(root, ".grok-images/originals", originals[0] as string),
      "not the bytes we paid for",
    );
    await rm(join(root, ".grok-images/variants"), { recursive: true });
    expect(await engineFor().cachedImages(cached)).toBeUndefined();
    expect(emu.counters.submits).toBe(0);
    expect(emu.counters.tasksCreated).toBe(0);
  });

  it("gives each failure its own clear error without failing the rest of the batch", async () => {
    emu.inject({
      phase: "submit",
      prompt: "blocked",
      fault: { type: "moderation", categories: ["violence"] },
    });
    emu.inject({
      phase: "submit",
      prompt: "broke",
      fault: { type: "outcome", status: "FAILURE", failureReason: "INSUFFICIENT_POINTS" },
    });
    emu.inject({
      phase: "submit",
      prompt: "flaky",
      times: 1,
      fault: { type: "outcome", status: "FAILURE", failureReason: null },
    });
    const events: EngineEvent[] = [];
    const engine = engineFor({}, events);
    const [blocked, broke, flaky, fine] = [
      "grok:blocked scene",
      "grok:broke scene",
      "grok:flaky scene",
      "grok:fine scene",
    ].map(use);
    const summary = await engine.prepare([blocked, broke, flaky, fine] as DirectiveUse[]);
    expect(summary).toMatchObject({ generated: 2, failed: 2 });
    const moderation = await engine.images(blocked as DirectiveUse).catch((e) => e);
    expect(moderation.code).toBe("GROK_MODERATION");
    expect(moderation.importer).toContain("page.ts");
    const points = await engine.images(broke as DirectiveUse).catch((e) => e);
    expect(points.code).toBe("GROK_INSUFFICIENT_POINTS");
    expect(points.taskId).toMatch(/[0-9a-f-]{36}/);
    expect(await engine.images(flaky as DirectiveUse)).toHaveLength(1);
    expect(emu.counters.submitsByPrompt["flaky scene"]).toBe(2);
    expect(events.some((e) => e.type === "task" && e.state === "retrying")).toBe(true);
    expect(await engine.images(fine as DirectiveUse)).toHaveLength(1);
  });

  it("never writes the API key to events or cache files", async () => {
    const events: EngineEvent[] = [];
    emu.inject({ phase: "query", times: 1, fault: { type: "http", status: 500 } });
    const engine = engineFor({}, events);
    const u = use("grok:a secret garden?w=50");
    await engine.prepare([u]);
    await engine.images(u);
    expect(JSON.stringify(events)).not.toContain(KEY);
    for (const file of await filesUnder(join(root, ".grok-images"))) {
      expect((await readFile(file)).includes(KEY), file).toBe(false);
    }
  });
});
