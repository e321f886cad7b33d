import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../../maxapi-emulator/src/index.js";
import { parseDirective } from "../directive/parse-directive.js";
import { resolveOptions } from "../options/resolve-options.js";
import type { GrokImageOptions } from "../types.js";
import { createEngine } from "./create-engine.js";
import type { DirectiveUse } from "./engine-types.js";

/* The engine's side of the dev loop (SPEC section 11): start without waiting, see another process's work, retry. */

const KEY = "sk-start-test-7a2c";
let emu: Emulator;
let root: string;

beforeAll(async () => {
  emu = await startEmulator({ apiKeys: [KEY], latencyMs: 300, imageScale: 0.25 });
});
afterAll(() => emu.close());
beforeEach(async () => {
  emu.reset();
  root = await mkdtemp(join(tmpdir(), "grok-start-"));
});
afterEach(() => rm(root, { recursive: true, force: true }));

function engineFor(opts: GrokImageOptions = {}) {
  const options = resolveOptions(
    { apiKey: KEY, baseUrl: emu.url, mode: "generate", ...opts },
    { root, env: {}, command: "serve" },
  );
  return createEngine(options, {
    client: { poll: { initialDelayMs: 10, maxDelayMs: 40 }, minRetryDelayMs: 5, maxRetryDelayMs: 20 },
  });
}

const use = (raw: string): DirectiveUse => ({
  directive: parseDirective(raw, { tier: "lite", format: "webp", quality: 80 }),
  importer: join(root, "src/page.ts"),
});

describe("engine.start", () => {
  it("returns as soon as the miss is decided; the generation ends later and images() then has it", async () => {
    const engine = engineFor();
    const forest = use("grok:a misty forest?w=64");
    await engine.plan([forest], { payAsLoaded: true });
    const running = await engine.start(forest);
    expect(running).toBeDefined();
    // Decided, not done: nothing has been downloaded yet.
    expect(emu.counters.downloads).toBe(0);
    expect(engine.statuses()[0]?.state).toBe("generating");
    await running?.done;
    expect(emu.counters.downloads).toBe(1);
    const [image] = await engine.images(forest);
    expect(image?.status).toBe("generated");
    // A hit starts nothing.
    expect(await engine.start(forest)).toBeUndefined();
    expect(emu.counters.submits).toBe(1);
  });

  it("starts nothing for a miss the budget refuses", async () => {
    const engine = engineFor({ maxCost: 0.001 });
    const kites = use("grok:two kites?n=2");
    await engine.plan([kites], { payAsLoaded: true });
    expect(await engine.start(kites)).toBeUndefined();
    expect(engine.isRefused(kites.directive.generationKey)).toBe(true);
    expect(emu.counters.submits).toBe(0);
  });
});

describe("engine.refresh", () => {
  it("finds what another process generated into the shared cache, for directives it could not pay for", async () => {
    const boat = use("grok:a paper boat?w=64");
    const watcher = engineFor({ mode: "placeholder" });
    await watcher.plan([boat], { payAsLoaded: true });
    expect((await watcher.images(boat))[0]?.status).toBe("placeholder");
    expect(await watcher.refresh()).toEqual([]);

    await engineFor().prepare([boat]);
    expect(await watcher.refresh()).toEqual([boat.directive.generationKey]);
    const [image] = await watcher.images(boat);
    expect(image?.status).toBe("cached");
    expect(await watcher.originals(boat.directive.generationKey)).toHaveLength(1);
  });
});

describe("engine.retry", () => {
  it("pays a failed directive again, once, when asked; a key that has not failed is left alone", async () => {
    emu.inject({
      phase: "submit",
      prompt: "lighthouse",
      times: 1,
      fault: { type: "outcome", status: "FAILURE", failureReason: "CONTENT_MODERATION" },
    });
    const engine = engineFor();
    const lighthouse = use("grok:a lighthouse?w=64");
    await engine.plan([lighthouse], { payAsLoaded: true });
    await (await engine.start(lighthouse))?.done;
    const key = lighthouse.directive.generationKey;
    expect(engine.failure(key)?.code).toBe("GROK_MODERATION");
    // A failure is not paid again by a later load.
    expect(await engine.start(lighthouse)).toBeUndefined();
    expect(emu.counters.submits).toBe(1);

    expect(engine.retry(key)).toBe(true);
    await (await engine.start(lighthouse))?.done;
    expect(emu.counters.submits).toBe(2);
    expect((await engine.images(lighthouse))[0]?.status).toBe("generated");
    expect(engine.retry(key)).toBe(false);
  });
});
