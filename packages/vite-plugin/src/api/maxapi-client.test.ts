import sharp from "sharp";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../../maxapi-emulator/src/index.js";
import { GrokImageError } from "../errors.js";
import type { Generation } from "../types.js";
import { createMaxApiClient, type MaxApiClient } from "./maxapi-client.js";

const KEY = "sk-client-test-6f1d0c4e9a";

const generation = (prompt: string, over: Partial<Generation> = {}): Generation => ({
  model: "grok-imagine/text-to-image-lite",
  tier: "lite",
  prompt,
  n: 1,
  ratio: null,
  resolution: null,
  v: null,
  ...over,
});

let emu: Emulator;
let client: MaxApiClient;

beforeAll(async () => {
  emu = await startEmulator({ apiKeys: [KEY], latencyMs: 150, imageScale: 0.25 });
  client = createMaxApiClient({
    apiKey: KEY,
    baseUrl: emu.url,
    minRetryDelayMs: 5,
    maxRetryDelayMs: 20,
    poll: { initialDelayMs: 50, maxDelayMs: 100, factor: 1.6 },
  });
});
afterAll(async () => {
  await client.close();
  await emu.close();
});
beforeEach(() => emu.reset());

const rejection = (promise: Promise<unknown>): Promise<GrokImageError> =>
  promise.then(
    () => expect.fail("expected a rejection"),
    (error: unknown) => {
      expect(GrokImageError.isInstance(error)).toBe(true);
      return error as GrokImageError;
    },
  );

describe("happy path", () => {
  it("submits, polls with few queries, and downloads decodable images without credentials", async () => {
    const { taskId } = await client.submit(generation("a lighthouse at dusk", { n: 2 }));
    const statuses: string[] = [];
    const info = await client.waitForTask(taskId, {
      deadline: Date.now() + 20_000,
      onStatus: (task) => statuses.push(task.status),
    });
    expect(info.status).toBe("SUCCESS");
    expect(info.taskId).toBe(taskId);
    expect(info.failureReason).toBeNull();
    expect(info.createdAt).toMatch(/Z$/);
    expect(info.result?.urls).toHaveLength(2);
    expect(statuses.at(-1)).toBe("SUCCESS");
    expect(new Set(statuses).size).toBe(statuses.length);
    expect(emu.counters.queriesByTask[taskId]).toBeLessThanOrEqual(4);

    for (const url of info.result?.urls ?? []) {
      expect(url.startsWith(emu.cdnUrl)).toBe(true);
      const bytes = await client.download(url, { taskId });
      const meta = await sharp(bytes).metadata();
      expect(meta.format).toBe("jpeg");
      expect(meta.width).toBeGreaterThan(0);
    }
    expect(emu.counters.downloads).toBe(2);
    expect(emu.counters.cdnAuthorizationHeaders).toBe(0);
    expect(emu.counters.tasksCreated).toBe(1);
  });

  it("sends model, prompt and n, omits null ratio/resolution, and never sends v or tier", async () => {
    const lite = await client.submit(generation("a red kite", { v: "2" }));
    expect(emu.getTask(lite.taskId)?.input).toEqual({
      model: "grok-imagine/text-to-image-lite",
      prompt: "a red kite",
      n: 1,
    });
    const pro = await client.submit(
      generation("a blue kite", {
        model: "grok-imagine/text-to-image-pro",
        tier: "pro",
        ratio: "16:9",
        n: 3,
      }),
    );
    expect(emu.getTask(pro.taskId)?.input).toEqual({
      model: "grok-imagine/text-to-image-pro",
      prompt: "a blue kite",
      n: 3,
      ratio: "16:9",
    });
  });

  it("getTask reports a running task without waiting", async () => {
    const { taskId } = await client.submit(generation("a slow snail"));
    const info = await client.getTask(taskId);
    expect(info.taskId).toBe(taskId);
    expect(["PENDING", "PROCESSING", "SUBMITTED"]).toContain(info.status);
    expect(info.result).toBeNull();
    expect(info.input.prompt).toBe("a slow snail");
  });
});

describe("submit refusals", () => {
  it("maps a refused key to GROK_AUTH without echoing the key", async () => {
    const wrong = createMaxApiClient({ apiKey: "sk-wrong-key-77aa", baseUrl: emu.url, minRetryDelayMs: 1 });
    try {
      const error = await rejection(wrong.submit(generation("a cat")));
      expect(error.code).toBe("GROK_AUTH");
      expect(error.status).toBe(401);
      expect(error.hint).toContain("MAXAPI_KEY");
      expect(`${error.message} ${error.hint}`).not.toContain("sk-wrong-key-77aa");
      expect(emu.counters.submits).toBe(1);
      expect(emu.counters.tasksCreated).toBe(0);
    } finally {
      await wrong.close();
    }
  });

  it("maps the moderation 400 to GROK_MODERATION listing the flagged categories, without retrying", async () => {
    emu.inject({ phase: "submit", fault: { type: "moderation", categories: ["violence", "hate"] } });
    const error = await rejection(client.submit(generation("a forbidden scene")));
    expect(error.code).toBe("GROK_MODERATION");
    expect(error.message).toContain('"a forbidden scene"');
    expect(error.message).toContain("hate");
    expect(error.message).toContain("violence");
    expect(error.message).not.toContain("sexual");
    expect(error.hint).toMatch(/reword/i);
    expect(error.hint).toMatch(/not charged/i);
    expect(emu.counters.submits).toBe(1);
    expect(emu.counters.moderated).toBe(1);
  });

  it("maps a validation 400 to GROK_INVALID_PARAMETERS with the API's message", async () => {
    const error = await rejection(
      client.submit(generation("too many", { n: 9 }), { label: "grok:too many?n=9" }),
    );
    expect(error.code).toBe("GROK_INVALID_PARAMETERS");
    expect(error.status).toBe(400);
    expect(error.message).toContain("grok:too many?n=9");
    expect(emu.counters.submits).toBe(1);
    expect(emu.counters.tasksCreated).toBe(0);
  });

  it("passes callBackUrl through (the API refuses a localhost callback)", async () => {
    const error = await rejection(
      client.submit(generation("a webhook"), { callBackUrl: "http://127.0.0.1:9/hook" }),
    );
    expect(error.code).toBe("GROK_INVALID_PARAMETERS");
    expect(error.message).toContain("callBackUrl");
  });
});

describe("cancel and lookups", () => {
  it("cancels a queued task, and refuses to cancel a finished one", async () => {
    emu.inject({ phase: "submit", prompt: "queued", fault: { type: "latency", ms: 5_000 } });
    const queued = await client.submit(generation("queued for cancel"));
    await client.cancel(queued.taskId);
    expect(emu.getTask(queued.taskId)?.status).toBe("CANCELLED");
    expect(emu.counters.cancelled).toBe(1);

    const done = await client.submit(generation("finished"));
    await client.waitForTask(done.taskId, { deadline: Date.now() + 20_000 });
    const error = await rejection(client.cancel(done.taskId));
    expect(error.code).toBe("GROK_HTTP_ERROR");
    expect(error.taskId).toBe(done.taskId);
    expect(error.status).toBe(400);
  });

  it("reports an unknown task id as GROK_HTTP_ERROR 404 without retrying", async () => {
    const error = await rejection(client.getTask("00000000-0000-4000-8000-000000000000"));
    expect(error.code).toBe("GROK_HTTP_ERROR");
    expect(error.status).toBe(404);
    expect(error.taskId).toBe("00000000-0000-4000-8000-000000000000");
    expect(emu.counters.queries).toBe(1);
  });
});
