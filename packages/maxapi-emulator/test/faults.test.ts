import { request } from "node:http";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { MODERATION_CATEGORIES } from "../src/index.js";
import { AUTH, call, LITE, settle, startSharedEmulator, submit, submitOk } from "./helpers.js";

const emulator = await startSharedEmulator({ latencyMs: 15, imageScale: 0.1 }, (shared) =>
  shared.clearFaults(),
);

/** A raw request, so a dropped or truncated response is seen as it is and not smoothed over by a client. */
function raw(url: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}) {
  return new Promise<{ status?: number; bytes: number; error?: string }>((resolve) => {
    const req = request(url, { method: init.method ?? "GET", headers: init.headers, agent: false }, (res) => {
      let bytes = 0;
      res.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
      });
      res.on("end", () => resolve({ status: res.statusCode, bytes }));
      res.on("error", (error) => resolve({ status: res.statusCode, bytes, error: error.message }));
    });
    req.on("error", (error: NodeJS.ErrnoException) =>
      resolve({ bytes: 0, error: error.code ?? error.message }),
    );
    req.end(init.body);
  });
}

function rawSubmit(prompt: string) {
  return raw(`${emulator.url}/api/v1/task/submit`, {
    method: "POST",
    headers: { ...AUTH, "content-type": "application/json" },
    body: JSON.stringify({ model: LITE, input: { prompt } }),
  });
}

async function firstUrl(prompt: string): Promise<string> {
  const { data } = await settle(emulator, await submitOk(emulator, { prompt }));
  return data.result?.urls[0] as string;
}

describe("transport faults", () => {
  it("answers 429 with Retry-After, for `times` requests only", async () => {
    emulator.inject({ phase: "submit", times: 1, fault: { type: "http", status: 429, retryAfter: 2 } });
    const limited = await submit(emulator, { model: LITE, input: { prompt: "x" } });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("2");
    expect(limited.body).toEqual({ code: 429, msg: expect.any(String) });
    expect((await submit(emulator, { model: LITE, input: { prompt: "x" } })).status).toBe(200);
  });

  it.each([500, 502, 503])("answers %i on submit, poll and download, matching by prompt", async (status) => {
    const url = await firstUrl("flaky");
    const taskId = url.split("/").at(-2) as string;
    for (const phase of ["submit", "query", "download"] as const) {
      emulator.inject({ phase, prompt: "flaky", times: 1, fault: { type: "http", status } });
    }
    expect((await submit(emulator, { model: LITE, input: { prompt: "not it" } })).status).toBe(200);
    expect((await submit(emulator, { model: LITE, input: { prompt: "very flaky" } })).status).toBe(status);
    expect((await call(emulator, `/api/v1/task/${taskId}`)).status).toBe(status);
    expect((await fetch(url)).status).toBe(status);
    expect((await fetch(url)).status).toBe(200);
  });

  it("drops the connection without a response", async () => {
    emulator.inject({ phase: "submit", prompt: /^drop/, fault: { type: "drop" } });
    const dropped = await rawSubmit("drop me");
    expect(dropped.status).toBeUndefined();
    expect(dropped.error).toBe("ECONNRESET");
    expect(emulator.counters.tasksCreated).toBe(0);
  });

  it("delays a response, then answers normally", async () => {
    emulator.inject({ phase: "query", prompt: "slow poll", fault: { type: "delay", ms: 300 } });
    const slow = await submitOk(emulator, { prompt: "slow poll" });
    const fast = await submitOk(emulator, { prompt: "fast poll" });
    const order: string[] = [];
    const slowReply = call(emulator, `/api/v1/task/${slow}`).then((reply) => {
      order.push("slow");
      return reply;
    });
    await call(emulator, `/api/v1/task/${fast}`).then(() => order.push("fast"));
    expect((await slowReply).status).toBe(200);
    expect(order).toEqual(["fast", "slow"]);
  });
});

describe("submit faults", () => {
  it("answers the documented moderation 400 with all 13 categories, creating and charging nothing", async () => {
    emulator.inject({
      phase: "submit",
      prompt: "nsfw",
      fault: { type: "moderation", categories: ["violence"] },
    });
    const reply = await submit(emulator, { model: LITE, input: { prompt: "nsfw thing" } });
    expect(reply.status).toBe(400);
    expect(reply.body).toEqual({
      code: 400,
      msg: "content rejected by moderation",
      data: {
        flagged: true,
        categories: Object.fromEntries(MODERATION_CATEGORIES.map((c) => [c, c === "violence"])),
      },
    });
    expect(Object.keys((reply.body.data as { categories: object }).categories)).toHaveLength(13);
    expect(emulator.counters).toMatchObject({ moderated: 1, tasksCreated: 0, costUsd: 0 });
  });

  it("accepts then drops: the task exists and is charged though the client saw no answer", async () => {
    emulator.inject({ phase: "submit", times: 1, fault: { type: "accept-then-drop" } });
    const dropped = await rawSubmit("lost answer");
    expect(dropped.status).toBeUndefined();
    expect(emulator.counters.tasksCreated).toBe(1);
    await new Promise<void>((resolve) => {
      const check = () => (emulator.counters.costUsd > 0 ? resolve() : setTimeout(check, 5));
      check();
    });
    expect(emulator.counters.costUsd).toBe(0.001);
  });

  it.each([
    ["FAILURE", "CONTENT_MODERATION"],
    ["FAILURE", "INVALID_PARAMETERS"],
    ["FAILURE", "INSUFFICIENT_POINTS"],
    ["FAILURE", null],
    ["TIMEOUT", null],
    ["CANCELLED", null],
  ] as const)("ends the task %s with failure_reason %s, uncharged", async (status, failureReason) => {
    emulator.inject({ phase: "submit", fault: { type: "outcome", status, failureReason } });
    const { seen, data } = await settle(emulator, await submitOk(emulator, { prompt: "doomed" }));
    expect(seen.at(-1)).toBe(status);
    expect(data).toMatchObject({ status, failure_reason: failureReason, result: null });
    expect(emulator.counters.costUsd).toBe(0);
  });

  it("gives one task its own latency", async () => {
    emulator.configure({ latencyMs: 15 });
    emulator.inject({ phase: "submit", prompt: "stuck", fault: { type: "latency", ms: 60_000 } });
    const stuck = await submitOk(emulator, { prompt: "stuck" });
    await settle(emulator, await submitOk(emulator, { prompt: "quick" }));
    expect(emulator.getTask(stuck)?.status).toBe("PENDING");
  });

  it("refuses rules that cannot apply to their phase", () => {
    expect(() => emulator.inject({ phase: "download", fault: { type: "moderation" } })).toThrow(TypeError);
    expect(() => emulator.inject({ phase: "submit", fault: { type: "corrupt" } })).toThrow(TypeError);
    expect(() => emulator.inject({ phase: "query", fault: { type: "http", status: 200 } })).toThrow(
      TypeError,
    );
  });
});

describe("download faults", () => {
  it("serves an expired answer on demand", async () => {
    const url = await firstUrl("old");
    emulator.inject({ phase: "download", times: 1, fault: { type: "expired" } });
    expect((await fetch(url)).status).toBe(410);
    expect((await fetch(url)).status).toBe(200);
  });

  it("truncates: announces the full length, sends part, closes", async () => {
    const url = await firstUrl("cut short");
    const full = (await (await fetch(url)).arrayBuffer()).byteLength;
    emulator.inject({ phase: "download", fault: { type: "truncated" } });
    const cut = await raw(url);
    expect(cut.status).toBe(200);
    expect(cut.error).toBe("aborted");
    expect(cut.bytes).toBe(Math.floor(full / 2));
    await expect(fetch(url).then((res) => res.arrayBuffer())).rejects.toThrow();
  });

  it("serves bytes that are not an image", async () => {
    const url = await firstUrl("garbled");
    emulator.inject({ phase: "download", fault: { type: "corrupt" } });
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/jpeg");
    await expect(sharp(Buffer.from(await res.arrayBuffer())).metadata()).rejects.toThrow();
  });

  it.each([true, false])("serves an oversized body (declared length: %s)", async (declareLength) => {
    const url = await firstUrl("huge");
    emulator.inject({ phase: "download", fault: { type: "oversized", bytes: 3_000_000, declareLength } });
    const res = await fetch(url);
    expect(res.headers.get("content-length")).toBe(declareLength ? "3000000" : null);
    expect((await res.arrayBuffer()).byteLength).toBe(3_000_000);
  });

  it("drops a download", async () => {
    const url = await firstUrl("vanishing");
    emulator.inject({ phase: "download", fault: { type: "drop" } });
    expect((await raw(url)).error).toBe("ECONNRESET");
  });
});
