import { createServer } from "node:net";
import { describe, expect, it, vi } from "vitest";
import { generation, rejection, useEmulatorClient } from "./__test__/support.js";
import { createMaxApiClient } from "./maxapi-client.js";
import { MAX_RETRY_AFTER_MS, parseRetryAfter } from "./retry-policy.js";

const KEY = "sk-retry-test-0b9e77d3";

const api = useEmulatorClient({
  key: KEY,
  latencyMs: 100,
  clientOptions: {
    timeouts: { headersMs: 300 },
    poll: { initialDelayMs: 30, maxDelayMs: 60, factor: 1.6 },
  },
});

/** A port nothing listens on: bind one, note it, release it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("parseRetryAfter", () => {
  it("reads delta-seconds and HTTP dates, and ignores absurd or invalid values", () => {
    const now = Date.parse("2026-02-10T12:00:00Z");
    expect(parseRetryAfter("3", now)).toBe(3000);
    expect(parseRetryAfter("0", now)).toBe(0);
    expect(parseRetryAfter("Tue, 10 Feb 2026 12:00:05 GMT", now)).toBe(5000);
    expect(parseRetryAfter("Tue, 10 Feb 2026 11:59:00 GMT", now)).toBe(0);
    expect(parseRetryAfter(String(MAX_RETRY_AFTER_MS / 1000 + 1), now)).toBeUndefined();
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe("submit (the paid step)", () => {
  it("honours Retry-After on a 429, then succeeds with one task", async () => {
    api.emu.inject({ phase: "submit", times: 1, fault: { type: "http", status: 429, retryAfter: 1 } });
    const { taskId } = await api.client.submit(generation("rate limited"));
    expect(taskId).toBeTruthy();
    expect(api.retries).toHaveLength(1);
    expect(api.retries[0]).toMatchObject({ phase: "submit", attempt: 1 });
    expect(api.retries[0]?.delayMs).toBeGreaterThanOrEqual(1000);
    expect(api.emu.counters.submits).toBe(2);
    expect(api.emu.counters.tasksCreated).toBe(1);
  });

  it("uses its own backoff when Retry-After is over 60 s", async () => {
    api.emu.inject({ phase: "submit", times: 1, fault: { type: "http", status: 429, retryAfter: 3600 } });
    await api.client.submit(generation("absurd retry-after"));
    expect(api.retries[0]?.delayMs).toBeLessThanOrEqual(20);
  });

  it("retries 5xx exactly `retries` times and creates no extra paid task", async () => {
    api.emu.inject({ phase: "submit", times: 2, fault: { type: "http", status: 503 } });
    await api.client.submit(generation("flaky gateway"));
    expect(api.retries.map((r) => r.attempt)).toEqual([1, 2]);
    expect(api.emu.counters.submits).toBe(3);
    expect(api.emu.counters.tasksCreated).toBe(1);

    api.emu.reset();
    api.retries.length = 0;
    api.emu.inject({ phase: "submit", fault: { type: "http", status: 500, msg: "upstream exploded" } });
    const error = await rejection(api.client.submit(generation("broken gateway")));
    expect(error.code).toBe("GROK_HTTP_ERROR");
    expect(error.status).toBe(500);
    expect(error.message).toContain("POST");
    expect(error.message).toContain("/api/v1/task/submit");
    expect(error.message).toContain("upstream exploded");
    expect(error.message).toContain("3 attempts");
    expect(error.isRetryable).toBe(false);
    expect(api.emu.counters.submits).toBe(3);
    expect(api.emu.counters.tasksCreated).toBe(0);
  });

  it("does not retry when the connection drops after the task was accepted", async () => {
    api.emu.inject({ phase: "submit", times: 1, fault: { type: "accept-then-drop" } });
    const error = await rejection(api.client.submit(generation("accepted then dropped")));
    expect(error.code).toBe("GROK_HTTP_ERROR");
    expect(error.message).toMatch(/may have created the task/);
    expect(error.hint).toMatch(/outcome is unknown/);
    expect(error.hint).toMatch(/charged/);
    expect(api.retries).toHaveLength(0);
    expect(api.emu.counters.submits).toBe(1);
    expect(api.emu.counters.tasksCreated).toBe(1);
  });

  it("does not retry a dropped connection or a headers timeout on a request that was sent", async () => {
    api.emu.inject({ phase: "submit", times: 1, fault: { type: "drop" } });
    expect((await rejection(api.client.submit(generation("dropped")))).message).toMatch(
      /after the request was sent/,
    );
    expect(api.emu.counters.submits).toBe(1);

    api.emu.inject({ phase: "submit", times: 1, fault: { type: "delay", ms: 2500 } });
    const error = await rejection(api.client.submit(generation("slow to answer")));
    expect(error.code).toBe("GROK_HTTP_ERROR");
    expect(error.message).toContain("UND_ERR_HEADERS_TIMEOUT");
    expect(api.retries).toHaveLength(0);
    expect(api.emu.counters.submits).toBe(2);
    // The slow server still creates the task: a blind retry would have paid twice.
    await vi.waitFor(() => expect(api.emu.counters.tasksCreated).toBe(1), { timeout: 5_000 });
  });

  it("retries when the connection is refused (the request never left)", async () => {
    const refused = createMaxApiClient({
      apiKey: KEY,
      baseUrl: `http://127.0.0.1:${await closedPort()}`,
      minRetryDelayMs: 1,
      maxRetryDelayMs: 5,
      onRetry: (info) => api.retries.push(info),
    });
    try {
      const error = await rejection(refused.submit(generation("nobody home")));
      expect(error.code).toBe("GROK_HTTP_ERROR");
      expect(error.message).toContain("ECONNREFUSED");
      expect(api.retries.map((r) => r.phase)).toEqual(["submit", "submit"]);
    } finally {
      await refused.close();
    }
  });
});

describe("query", () => {
  it("honours an HTTP-date Retry-After and rides out a 5xx storm and dropped connections", async () => {
    const { taskId } = await api.client.submit(generation("stormy query"));
    const retryAt = new Date(Date.now() + 2000).toUTCString();
    api.emu.inject({ phase: "query", times: 1, fault: { type: "http", status: 429, retryAfter: retryAt } });
    api.emu.inject({ phase: "query", times: 2, fault: { type: "http", status: 502 } });
    api.emu.inject({ phase: "query", times: 1, fault: { type: "drop" } });
    const info = await api.client.waitForTask(taskId, { deadline: Date.now() + 30_000 });
    expect(info.status).toBe("SUCCESS");
    expect(api.retries.every((r) => r.phase === "query")).toBe(true);
    expect(api.retries.length).toBeGreaterThanOrEqual(4);
    expect(api.retries[0]?.delayMs).toBeGreaterThan(100);
    expect(api.emu.counters.tasksCreated).toBe(1);
    expect(api.emu.counters.submits).toBe(1);
  });

  it("retries a query whose headers time out", async () => {
    const { taskId } = await api.client.submit(generation("slow query"));
    api.emu.inject({ phase: "query", times: 1, fault: { type: "delay", ms: 2500 } });
    const info = await api.client.getTask(taskId);
    expect(info.taskId).toBe(taskId);
    expect(api.retries).toHaveLength(1);
    expect(api.retries[0]?.reason).toContain("UND_ERR_HEADERS_TIMEOUT");
  });

  it("gives up after its retries with GROK_HTTP_ERROR carrying the task id, never re-submitting", async () => {
    const { taskId } = await api.client.submit(generation("dead query"));
    api.emu.inject({ phase: "query", fault: { type: "http", status: 503 } });
    const error = await rejection(api.client.waitForTask(taskId, { deadline: Date.now() + 30_000 }));
    expect(error.code).toBe("GROK_HTTP_ERROR");
    expect(error.taskId).toBe(taskId);
    expect(error.status).toBe(503);
    expect(error.message).toContain("5 attempts");
    expect(api.emu.counters.queriesByTask[taskId]).toBe(5);
    expect(api.emu.counters.submits).toBe(1);
  });
});
