import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../../maxapi-emulator/src/index.js";
import { parseDirective } from "../directive/parse-directive.js";
import { resolveOptions } from "../options/resolve-options.js";
import type { GrokImageOptions } from "../types.js";
import { createEngine } from "./create-engine.js";
import type { BatchSummary, DirectiveUse, EngineEvent } from "./engine-types.js";

/*
 * The summary's cost is what MaxAPI accepted in the run: every submit, re-submits and tasks that failed after
 * being accepted included. Each test compares it with the emulator's count of submits ($0.001 per lite image).
 */

const KEY = "sk-paid-cost-test-71c4";
const LITE_USD = 0.001;
let emu: Emulator;
let root: string;

beforeAll(async () => {
  emu = await startEmulator({ apiKeys: [KEY], latencyMs: 30, imageScale: 0.25 });
});
afterAll(() => emu.close());
beforeEach(async () => {
  emu.reset();
  root = await mkdtemp(join(tmpdir(), "grok-paid-cost-"));
});
afterEach(() => rm(root, { recursive: true, force: true }));

function engineFor(opts: GrokImageOptions = {}, events: EngineEvent[] = []) {
  const options = resolveOptions(
    { apiKey: KEY, baseUrl: emu.url, mode: "generate", ...opts },
    { root, env: {}, command: "build" },
  );
  return createEngine(options, {
    onEvent: (e) => events.push(e),
    client: { poll: { initialDelayMs: 5, maxDelayMs: 20 }, minRetryDelayMs: 5, maxRetryDelayMs: 20 },
  });
}

const use = (raw: string): DirectiveUse => ({
  directive: parseDirective(raw, { tier: "lite", format: "webp", quality: 80 }),
  importer: join(root, "src/page.ts"),
});

/** A build as the Vite plugin runs one: plan everything, load each directive, then one summary. */
async function planAndLoad(uses: DirectiveUse[], opts: GrokImageOptions = {}) {
  const events: EngineEvent[] = [];
  const engine = engineFor(opts, events);
  await engine.plan(uses);
  const loaded = await Promise.allSettled(uses.map((u) => engine.images(u)));
  engine.report();
  await engine.close();
  const summaries = events.flatMap((e) => (e.type === "summary" ? [e.summary] : []));
  expect(summaries).toHaveLength(1);
  const warnings = events.flatMap((e) => (e.type === "warn" ? [e.message] : []));
  return { summary: summaries[0] as BatchSummary, loaded, warnings };
}

async function damageOriginals(): Promise<void> {
  const dir = join(root, ".grok-images/originals");
  for (const name of await readdir(dir)) await writeFile(join(dir, name), "not the bytes we paid for");
}

describe("the summary's cost", () => {
  it("counts a FAILURE that was submitted again: 3 accepted tasks cost 3 × $0.001", async () => {
    emu.inject({
      phase: "submit",
      prompt: "flaky",
      times: 1,
      fault: { type: "outcome", status: "FAILURE", failureReason: null },
    });
    const { summary, loaded } = await planAndLoad([use("grok:a flaky kite"), use("grok:a steady kite")]);
    expect(loaded.map((r) => r.status)).toEqual(["fulfilled", "fulfilled"]);
    expect(emu.counters.submits).toBe(3);
    expect(summary).toMatchObject({ generated: 2, failed: 0, costUsd: emu.counters.submits * LITE_USD });
  });

  it("counts the same in a batch prepared at once (the CLI's `generate`)", async () => {
    emu.inject({
      phase: "submit",
      prompt: "flaky",
      times: 1,
      fault: { type: "outcome", status: "FAILURE", failureReason: null },
    });
    const summary = await engineFor().prepare([use("grok:a flaky boat?n=2"), use("grok:a steady boat")]);
    expect(emu.counters.submits).toBe(3);
    expect(summary.costUsd).toBe(2 * 2 * LITE_USD + LITE_USD);
  });

  it("counts a task that succeeded but whose result could not be stored", async () => {
    emu.inject({ phase: "download", fault: { type: "corrupt" } });
    const { summary, loaded } = await planAndLoad([use("grok:a garbled lake")]);
    expect(loaded[0]?.status).toBe("rejected");
    expect(emu.counters.submits).toBe(1);
    expect(summary).toMatchObject({ generated: 0, failed: 1, costUsd: emu.counters.submits * LITE_USD });
  });

  it("counts the new task that replaces a damaged original no copy of which is left", async () => {
    const u = use("grok:a cracked bowl?w=48");
    await engineFor().prepare([u]);
    await damageOriginals();
    // MaxAPI no longer knows the task: its result URLs are gone with it.
    emu.reset();
    const { summary, loaded, warnings } = await planAndLoad([u]);
    expect(loaded[0]?.status).toBe("fulfilled");
    expect(emu.counters.submits).toBe(1);
    expect(summary).toMatchObject({ directives: 1, hits: 0, generated: 1, costUsd: LITE_USD });
    expect(warnings.join("\n")).toMatch(/The cached original .* has 25 bytes instead of \d+/);
  });
});

describe("a damaged original is repaired before anything is paid", () => {
  it("from its own task's result URLs, which stay downloadable for free", async () => {
    const u = use("grok:a chipped cup?w=48");
    await engineFor().prepare([u]);
    const [sha] = Object.values(
      JSON.parse(await readFile(join(root, ".grok-images/manifest.json"), "utf8")) as Record<
        string,
        { originals: { sha256: string }[] }
      >,
    ).flatMap((e) => e.originals.map((o) => o.sha256));
    await damageOriginals();
    const submits = emu.counters.submits;
    const { summary, loaded, warnings } = await planAndLoad([u]);
    expect(loaded[0]?.status).toBe("fulfilled");
    expect(emu.counters.submits).toBe(submits);
    expect(summary).toMatchObject({ hits: 1, generated: 0, costUsd: 0 });
    expect(warnings.join("\n")).toMatch(
      /Restored .* from the result URLs of task [0-9a-f-]{36} \(no new task/,
    );
    const [name] = await readdir(join(root, ".grok-images/originals"));
    expect(name?.startsWith(sha as string)).toBe(true);
    const bytes = await readFile(join(root, ".grok-images/originals", name as string));
    expect(bytes.toString()).not.toBe("not the bytes we paid for");
  });

  it("from an intact copy on disk (a prune's trash), with no request at all, even in frozen mode", async () => {
    const u = use("grok:a dented kettle?w=48");
    await engineFor().prepare([u]);
    const originals = join(root, ".grok-images/originals");
    const [name] = await readdir(originals);
    const trash = join(root, ".grok-images/trash/2025-01-02T03-04-05-678Z/originals");
    await mkdir(trash, { recursive: true });
    await writeFile(join(trash, name as string), await readFile(join(originals, name as string)));
    await damageOriginals();
    emu.reset();
    const { summary, loaded, warnings } = await planAndLoad([u], { mode: "frozen" });
    expect(loaded[0]?.status).toBe("fulfilled");
    expect(emu.counters.submits + emu.counters.queries + emu.counters.downloads).toBe(0);
    expect(summary).toMatchObject({ hits: 1, costUsd: 0 });
    expect(warnings.join("\n")).toContain(`from an intact copy at ${join(trash, name as string)}`);
  });
});
