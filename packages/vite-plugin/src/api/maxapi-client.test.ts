import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { generation, rejection, useEmulatorClient } from "./__test__/support.js";
import { createMaxApiClient } from "./maxapi-client.js";

const KEY = "sk-client-test-6f1d0c4e9a";

const api = useEmulatorClient({
  key: KEY,
  latencyMs: 150,
  clientOptions: { poll: { initialDelayMs: 50, maxDelayMs: 100, factor: 2 } },
});

describe("happy path", () => {
  it("submits, polls with few queries, and downloads decodable images without credentials", async () => {
    const { taskId } = await api.client.submit(generation("a lighthouse at dusk", { n: 2 }));
    const statuses: string[] = [];
    const info = await api.client.waitForTask(taskId, {
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
    expect(api.emu.counters.queriesByTask[taskId]).toBeLessThanOrEqual(4);

    for (const url of info.result?.urls ?? []) {
      expect(url.startsWith(api.emu.cdnUrl)).toBe(true);
      const bytes = await api.client.download(url, { taskId });
      const meta = await sharp(bytes).metadata();
      expect(meta.format).toBe("jpeg");
      expect(meta.width).toBeGreaterThan(0);
    }
    expect(api.emu.counters.downloads).toBe(2);
    expect(api.emu.counters.cdnAuthorizationHeaders).toBe(0);
    expect(api.emu.counters.tasksCreated).toBe(1);
  });

  it("sends model, prompt and n, omits null ratio/resolution, and never sends v or tier", async () => {
    const lite = await api.client.submit(generation("a red kite", { v: "2" }));
    expect(api.emu.getTask(lite.taskId)?.input).toEqual({
      model: "grok-imagine/text-to-image-lite",
      prompt: "a red kite",
      n: 1,
    });
    const pro = await api.client.submit(
      generation("a blue kite", {
        model: "grok-imagine/text-to-image-pro",
        tier: "pro",
        ratio: "16:9",
        n: 3,
      }),
    );
    expect(api.emu.getTask(pro.taskId)?.input).toEqual({
      model: "grok-imagine/text-to-image-pro",
      prompt: "a blue kite",
      n: 3,
      ratio: "16:9",
    });
  });

  it("getTask reports a running task without waiting", async () => {
    const { taskId } = await api.client.submit(generation("a slow snail"));
    const info = await api.client.getTask(taskId);
    expect(info.taskId).toBe(taskId);
    expect(["PENDING", "PROCESSING", "SUBMITTED"]).toContain(info.status);
    expect(info.result).toBeNull();
    expect(info.input.prompt).toBe("a slow snail");
  });
});

describe("submit refusals", () => {
  it("maps a refused key to GROK_AUTH without echoing the key", async () => {
    const wrong = createMaxApiClient({
      apiKey: "sk-wrong-key-77aa",
      baseUrl: api.emu.url,
      minRetryDelayMs: 1,
    });
    try {
      const error = await rejection(wrong.submit(generation("a cat")));
      expect(error.code).toBe("GROK_AUTH");
      expect(error.status).toBe(401);
      expect(error.hint).toContain("MAXAPI_KEY");
      expect(`${error.message} ${error.hint}`).not.toContain("sk-wrong-key-77aa");
      expect(api.emu.counters.submits).toBe(1);
      expect(api.emu.counters.tasksCreated).toBe(0);
    } finally {
      await wrong.close();
    }
  });

  it("maps the moderation 400 to GROK_MODERATION listing the flagged categories, without retrying", async () => {
    api.emu.inject({ phase: "submit", fault: { type: "moderation", categories: ["violence", "hate"] } });
    const error = await rejection(api.client.submit(generation("a forbidden scene")));
    expect(error.code).toBe("GROK_MODERATION");
    expect(error.message).toContain('"a forbidden scene"');
    expect(error.message).toContain("hate");
    expect(error.message).toContain("violence");
    expect(error.message).not.toContain("sexual");
    expect(error.hint).toMatch(/reword/i);
    expect(error.hint).toMatch(/not charged/i);
    expect(api.emu.counters.submits).toBe(1);
    expect(api.emu.counters.moderated).toBe(1);
  });

  it("maps a validation 400 to GROK_INVALID_PARAMETERS with the API's message", async () => {
    const error = await rejection(
      api.client.submit(generation("too many", { n: 9 }), { label: "grok:too many?n=9" }),
    );
    expect(error.code).toBe("GROK_INVALID_PARAMETERS");
    expect(error.status).toBe(400);
    expect(error.message).toContain("grok:too many?n=9");
    expect(api.emu.counters.submits).toBe(1);
    expect(api.emu.counters.tasksCreated).toBe(0);
  });

  it("passes callBackUrl through (the API refuses a localhost callback)", async () => {
    const error = await rejection(
      api.client.submit(generation("a webhook"), { callBackUrl: "http://127.0.0.1:9/hook" }),
    );
    expect(error.code).toBe("GROK_INVALID_PARAMETERS");
    expect(error.message).toContain("callBackUrl");
  });
});

describe("cancel and lookups", () => {
  it("cancels a queued task, and refuses to cancel a finished one", async () => {
    api.emu.inject({ phase: "submit", prompt: "queued", fault: { type: "latency", ms: 5_000 } });
    const queued = await api.client.submit(generation("queued for cancel"));
    await api.client.cancel(queued.taskId);
    expect(api.emu.getTask(queued.taskId)?.status).toBe("CANCELLED");
    expect(api.emu.counters.cancelled).toBe(1);

    const done = await api.client.submit(generation("finished"));
    await api.client.waitForTask(done.taskId, { deadline: Date.now() + 20_000 });
    const error = await rejection(api.client.cancel(done.taskId));
    expect(error.code).toBe("GROK_HTTP_ERROR");
    expect(error.taskId).toBe(done.taskId);
    expect(error.status).toBe(400);
  });

  it("reports an unknown task id as GROK_HTTP_ERROR 404 without retrying", async () => {
    const error = await rejection(api.client.getTask("00000000-0000-4000-8000-000000000000"));
    expect(error.code).toBe("GROK_HTTP_ERROR");
    expect(error.status).toBe(404);
    expect(error.taskId).toBe("00000000-0000-4000-8000-000000000000");
    expect(api.emu.counters.queries).toBe(1);
  });
});
