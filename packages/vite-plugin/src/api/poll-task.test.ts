import { describe, expect, it } from "vitest";
import type { FailureReason } from "../../../maxapi-emulator/src/index.js";
import type { GrokImageErrorCode } from "../errors.js";
import { generation, rejection, useEmulatorClient } from "./__test__/support.js";
import { createMaxApiClient } from "./maxapi-client.js";

const KEY = "sk-poll-test-5c2a81f0";

const api = useEmulatorClient({
  key: KEY,
  latencyMs: 90,
  clientOptions: { poll: { initialDelayMs: 30, maxDelayMs: 60, factor: 1.6 } },
});

/** Submits a task whose emulated outcome is forced, then waits for it. */
async function failingTask(
  prompt: string,
  status: "FAILURE" | "TIMEOUT" | "CANCELLED",
  reason: string | null = null,
) {
  api.emu.inject({
    phase: "submit",
    prompt,
    times: 1,
    fault: { type: "outcome", status, failureReason: reason as FailureReason | null },
  });
  const { taskId } = await api.client.submit(generation(prompt));
  const error = await rejection(
    api.client.waitForTask(taskId, { deadline: Date.now() + 20_000, label: `grok:${prompt}` }),
  );
  expect(error.taskId).toBe(taskId);
  expect(error.message).toContain(taskId);
  expect(error.message).toContain(`grok:${prompt}`);
  return error;
}

describe("terminal failures", () => {
  it.each<[string | null, GrokImageErrorCode, RegExp]>([
    ["CONTENT_MODERATION", "GROK_MODERATION", /reword/i],
    ["INVALID_PARAMETERS", "GROK_INVALID_PARAMETERS", /parameters/i],
    ["INSUFFICIENT_POINTS", "GROK_INSUFFICIENT_POINTS", /recharge/i],
  ])("maps FAILURE + %s to %s, not retryable", async (reason, code, hint) => {
    const error = await failingTask(`reason ${reason}`, "FAILURE", reason);
    expect(error.code).toBe(code);
    expect(error.hint).toMatch(hint);
    expect(error.isRetryable).toBe(false);
  });

  it("maps FAILURE without a reason to a retryable GROK_TASK_FAILED", async () => {
    const error = await failingTask("transient failure", "FAILURE", null);
    expect(error.code).toBe("GROK_TASK_FAILED");
    expect(error.isRetryable).toBe(true);
    expect(error.hint).toMatch(/new, separately charged task/);
  });

  it("keeps an undocumented failure reason and does not call it retryable", async () => {
    const error = await failingTask("odd failure", "FAILURE", "GPU_MELTDOWN");
    expect(error.code).toBe("GROK_TASK_FAILED");
    expect(error.message).toContain("GPU_MELTDOWN");
    expect(error.isRetryable).toBe(false);
  });

  it.each(["TIMEOUT", "CANCELLED"] as const)(
    "maps status %s to GROK_TASK_FAILED naming the status",
    async (status) => {
      const error = await failingTask(`ended ${status}`, status);
      expect(error.code).toBe("GROK_TASK_FAILED");
      expect(error.message).toContain(status);
      expect(error.isRetryable).toBe(false);
    },
  );
});

describe("failure messages", () => {
  it("name the prompt the task echoes back when no label is given", async () => {
    api.emu.inject({ phase: "submit", times: 1, fault: { type: "outcome", status: "TIMEOUT" } });
    const { taskId } = await api.client.submit(generation("an unlabelled heron"));
    const error = await rejection(api.client.waitForTask(taskId, { deadline: Date.now() + 20_000 }));
    expect(error.message).toContain('"an unlabelled heron"');
  });
});

describe("polling", () => {
  it("reports every status change through onStatus and stops at SUCCESS", async () => {
    const { taskId } = await api.client.submit(generation("watch me"));
    const seen: string[] = [];
    const info = await api.client.waitForTask(taskId, {
      deadline: Date.now() + 20_000,
      onStatus: (task) => seen.push(task.status),
    });
    expect(info.status).toBe("SUCCESS");
    expect(seen.at(-1)).toBe("SUCCESS");
    for (const status of seen.slice(0, -1)) expect(["PENDING", "PROCESSING", "SUBMITTED"]).toContain(status);
    expect(api.emu.counters.queriesByTask[taskId]).toBeGreaterThanOrEqual(seen.length);
  });

  it("fails with GROK_TIMEOUT when the deadline passes, carrying the task id", async () => {
    api.emu.inject({ phase: "submit", prompt: "forever", fault: { type: "latency", ms: 60_000 } });
    const { taskId } = await api.client.submit(generation("forever pending"));
    const error = await rejection(api.client.waitForTask(taskId, { deadline: Date.now() + 200 }));
    expect(error.code).toBe("GROK_TIMEOUT");
    expect(error.taskId).toBe(taskId);
    expect(error.hint).toMatch(/timeout/);
  });

  it("caps a long poll wait by the deadline", { timeout: 10_000 }, async () => {
    const slow = createMaxApiClient({ apiKey: KEY, baseUrl: api.emu.url, poll: { initialDelayMs: 120_000 } });
    try {
      const { taskId } = await slow.submit(generation("long first wait"));
      const error = await rejection(slow.waitForTask(taskId, { deadline: Date.now() + 100 }));
      expect(error.code).toBe("GROK_TIMEOUT");
      expect(api.emu.counters.queries).toBe(0);
    } finally {
      await slow.close();
    }
  });

  it("fails at once when the deadline is already past", async () => {
    const error = await rejection(api.client.waitForTask("any-task", { deadline: Date.now() - 1 }));
    expect(error.code).toBe("GROK_TIMEOUT");
    expect(api.emu.counters.queries).toBe(0);
  });

  it("aborts a wait with GROK_ABORTED, even inside a long Retry-After", { timeout: 10_000 }, async () => {
    api.emu.inject({ phase: "submit", prompt: "abort", fault: { type: "latency", ms: 60_000 } });
    const { taskId } = await api.client.submit(generation("abort me"));
    api.emu.inject({ phase: "query", fault: { type: "http", status: 429, retryAfter: 50 } });
    const controller = new AbortController();
    const waiting = api.client.waitForTask(taskId, {
      deadline: Date.now() + 120_000,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 150);
    const error = await rejection(waiting);
    expect(error.code).toBe("GROK_ABORTED");
    expect(error.taskId).toBe(taskId);
    expect(api.emu.counters.queriesByTask[taskId]).toBe(1);
  });

  it("refuses to start with an already aborted signal", async () => {
    const error = await rejection(api.client.getTask("x", { signal: AbortSignal.abort() }));
    expect(error.code).toBe("GROK_ABORTED");
    expect(api.emu.counters.queries).toBe(0);
  });
});
