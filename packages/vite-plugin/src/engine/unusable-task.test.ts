import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../../maxapi-emulator/src/index.js";
import { openCache } from "../cache/image-cache.js";
import { parseDirective } from "../directive/parse-directive.js";
import { formatError, GrokImageError } from "../errors.js";
import { resolveOptions } from "../options/resolve-options.js";
import { createEngine } from "./create-engine.js";
import type { BatchSummary, DirectiveUse, EngineEvent } from "./engine-types.js";

/*
 * A task MaxAPI accepted whose result can never be used must not be paid for again by every build, nor fail every
 * build with nothing to act on: the journal records the outcome, and each later build fails at once with the same
 * error, which names the task and the file to delete for a deliberate new task.
 */

const KEY = "sk-unusable-task-test-3e9b";
const LITE_USD = 0.001;
let emu: Emulator;
let root: string;

beforeAll(async () => {
  emu = await startEmulator({ apiKeys: [KEY], latencyMs: 30, imageScale: 0.25 });
});
afterAll(() => emu.close());
beforeEach(async () => {
  emu.reset();
  root = await mkdtemp(join(tmpdir(), "grok-unusable-"));
});
afterEach(() => rm(root, { recursive: true, force: true }));

const use = (raw: string): DirectiveUse => ({
  directive: parseDirective(raw, { tier: "lite", format: "webp", quality: 80 }),
  importer: join(root, "src/page.ts"),
});

/** One build as the Vite plugin runs it: plan, load, one summary. Resolves with the load's error, if any. */
async function build(u: DirectiveUse) {
  const events: EngineEvent[] = [];
  const options = resolveOptions(
    { apiKey: KEY, baseUrl: emu.url, mode: "generate" },
    { root, env: {}, command: "build" },
  );
  const engine = createEngine(options, {
    onEvent: (e) => events.push(e),
    client: { poll: { initialDelayMs: 5, maxDelayMs: 20 }, minRetryDelayMs: 5, maxRetryDelayMs: 20 },
  });
  await engine.plan([u]);
  const error = await engine.images(u).then(
    () => undefined,
    (e: unknown) => e,
  );
  engine.report();
  await engine.close();
  const summary = events.flatMap((e) => (e.type === "summary" ? [e.summary] : []))[0] as BatchSummary;
  return { error, summary };
}

const pendingFile = (u: DirectiveUse) => `.grok-images/pending/${u.directive.generationKey}.json`;

describe("a task whose result can never be used", () => {
  it("(bytes that never decode) fails the next build at once, with the same message and no request", async () => {
    emu.inject({ phase: "download", fault: { type: "corrupt" } });
    const u = use("grok:a garbled harbour");
    const first = await build(u);
    expect(GrokImageError.isInstance(first.error)).toBe(true);
    const error = first.error as GrokImageError;
    expect(error.code).toBe("GROK_DOWNLOAD_REJECTED");
    expect(error.taskId).toMatch(/^[0-9a-f-]{36}$/);
    expect(error.message).toContain(`Task ${error.taskId} for "a garbled harbour"`);
    expect(error.message).toContain("is not a complete, decodable image");
    expect(error.hint).toContain(`delete the record (\`rm ${pendingFile(u)}\`)`);
    expect(first.summary).toMatchObject({ failed: 1, costUsd: LITE_USD });
    expect(emu.counters.submits).toBe(1);

    const record = JSON.parse(await readFile(join(root, pendingFile(u)), "utf8"));
    expect(record).toMatchObject({ taskId: error.taskId, outcome: { code: "GROK_DOWNLOAD_REJECTED" } });
    const verify = await (await openCache(join(root, ".grok-images"))).verify();
    expect(verify.notes.join("\n")).toContain(`task ${error.taskId} cannot be used`);

    const requests = { ...emu.counters };
    const second = await build(u);
    expect(formatError(second.error as GrokImageError)).toBe(formatError(error));
    expect(emu.counters.submits).toBe(requests.submits);
    expect(emu.counters.queries).toBe(requests.queries);
    expect(emu.counters.downloads).toBe(requests.downloads);
    expect(second.summary).toMatchObject({ failed: 1, costUsd: 0 });
  });

  it("(URLs already expired at the first download) is not paid for again by each build, until its record is deleted", async () => {
    emu.inject({ phase: "download", fault: { type: "expired" } });
    const u = use("grok:a vanished lighthouse");
    const first = await build(u);
    const error = first.error as GrokImageError;
    expect(error.code).toBe("GROK_DOWNLOAD_REJECTED");
    expect(error.message).toContain("has expired");
    expect(error.message).toContain(`Task ${error.taskId}`);
    expect(emu.counters.submits).toBe(1);
    expect(first.summary.costUsd).toBe(emu.counters.submits * LITE_USD);

    for (let i = 0; i < 2; i++) {
      const again = await build(u);
      expect((again.error as GrokImageError).message).toBe(error.message);
      expect(emu.counters.submits).toBe(1);
      expect(again.summary.costUsd).toBe(0);
    }

    // The way out the hint names: delete the record; the next build pays for one new task, once.
    emu.clearFaults();
    await rm(join(root, pendingFile(u)));
    const fixed = await build(u);
    expect(fixed.error).toBeUndefined();
    expect(emu.counters.submits).toBe(2);
    expect(fixed.summary).toMatchObject({ generated: 1, costUsd: LITE_USD });
    expect(await readdir(join(root, ".grok-images/pending"))).toEqual([]);
  });
});
