import { describe, expect, it } from "vitest";
import { startEmulator } from "../src/index.js";
import { call, LITE, PRO, STANDARD, settle, startSharedEmulator, submit, submitOk } from "./helpers.js";

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const emulator = await startSharedEmulator({ latencyMs: 60, imageScale: 0.1 }, (shared) =>
  shared.configure({ latencyMs: 60, invalidParameters: "reject", cancellable: "pending" }),
);

describe("auth", () => {
  it.each([
    ["no header", {}],
    ["an empty token", { authorization: "Bearer " }],
    ["another scheme", { authorization: "Basic dXNlcjpwYXNz" }],
  ])("answers 401 with the documented body for %s", async (_name, headers) => {
    const res = await fetch(`${emulator.url}/api/v1/task/submit`, { method: "POST", headers, body: "{}" });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ code: 401, msg: "unauthorized" });
  });

  it("guards query and cancel too", async () => {
    const query = await fetch(`${emulator.url}/api/v1/task/x`);
    const cancel = await fetch(`${emulator.url}/api/v1/task/x/cancel`, { method: "POST" });
    expect([query.status, cancel.status]).toEqual([401, 401]);
  });

  it("accepts only the configured keys when apiKeys is set", async () => {
    const strict = await startEmulator({ apiKeys: ["right"] });
    try {
      const body = { model: LITE, input: { prompt: "a cat" } };
      expect((await submit(strict, body, { authorization: "Bearer wrong" })).status).toBe(401);
      expect((await submit(strict, body, { authorization: "Bearer right" })).status).toBe(200);
    } finally {
      await strict.close();
    }
  });
});

describe("submit validation", () => {
  it("returns a UUID task id in the success envelope", async () => {
    const reply = await submit(emulator, { model: LITE, input: { prompt: "a cat" } });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ code: 0, msg: "ok", data: { taskId: expect.stringMatching(UUID) } });
  });

  it("answers 400 for a body that is not JSON", async () => {
    const reply = await call(emulator, "/api/v1/task/submit", { method: "POST", body: "{nope" });
    expect(reply.status).toBe(400);
    expect(reply.body).toEqual({ code: 400, msg: expect.any(String) });
  });

  it.each([
    ["missing model", { input: { prompt: "x" } }],
    ["unknown model", { model: "grok-imagine/text-to-video", input: { prompt: "x" } }],
    ["missing input", { model: LITE }],
    ["missing prompt", { model: LITE, input: {} }],
    ["a callBackUrl that is not a URL", { model: LITE, input: { prompt: "x" }, callBackUrl: "nope" }],
    ["lite with n 5", { model: LITE, input: { prompt: "x", n: 5 } }],
    ["n 0", { model: STANDARD, input: { prompt: "x", n: 0 } }],
    ["standard with n 11", { model: STANDARD, input: { prompt: "x", n: 11 } }],
    ["a fractional n", { model: PRO, input: { prompt: "x", n: 1.5 } }],
    ["lite with ratio", { model: LITE, input: { prompt: "x", ratio: "1:1" } }],
    ["lite with resolution", { model: LITE, input: { prompt: "x", resolution: "720p" } }],
    ["an unknown ratio", { model: PRO, input: { prompt: "x", ratio: "4:3" } }],
    ["an unknown resolution", { model: STANDARD, input: { prompt: "x", resolution: "4k" } }],
  ])("rejects %s with a plain 400 and creates no task", async (_name, body) => {
    const reply = await submit(emulator, body);
    expect(reply.status).toBe(400);
    expect(reply.body).toEqual({ code: 400, msg: expect.any(String) });
    expect(emulator.counters.tasksCreated).toBe(0);
  });

  it.each([
    [LITE, { n: 4 }],
    [STANDARD, { n: 10, ratio: "16:9", resolution: "1080p" }],
    [PRO, { n: 1, ratio: "9:16", resolution: "720p" }],
  ])("accepts %s with %o", async (model, extra) => {
    expect((await submit(emulator, { model, input: { prompt: "x", ...extra } })).status).toBe(200);
  });

  it("turns a bad per-model parameter into FAILURE + INVALID_PARAMETERS when configured", async () => {
    emulator.configure({ invalidParameters: "fail" });
    const taskId = await submitOk(emulator, { prompt: "x", ratio: "16:9" });
    const { data } = await settle(emulator, taskId);
    expect(data).toMatchObject({ status: "FAILURE", failure_reason: "INVALID_PARAMETERS", result: null });
    expect(emulator.counters.costUsd).toBe(0);
  });
});

describe("query", () => {
  it("walks PENDING, PROCESSING, SUBMITTED to SUCCESS with the documented shape", async () => {
    emulator.configure({ latencyMs: 150 });
    const taskId = await submitOk(emulator, { prompt: "a red fox", n: 2 });
    const { seen, data } = await settle(emulator, taskId);
    const walk = ["PENDING", "PROCESSING", "SUBMITTED", "SUCCESS"];
    expect(seen.at(-1)).toBe("SUCCESS");
    expect(seen.map((status) => walk.indexOf(status))).toEqual([...seen.map((s) => walk.indexOf(s))].sort());
    expect(seen.every((status) => walk.includes(status))).toBe(true);
    expect(Object.keys(data).sort()).toEqual(
      ["created_at", "failure_reason", "input", "result", "status", "taskId", "updated_at"].sort(),
    );
    expect(data.input).toEqual({ model: LITE, prompt: "a red fox", n: 2 });
    expect(data.failure_reason).toBeNull();
    expect(data.created_at).toMatch(TIMESTAMP);
    expect(data.updated_at).toMatch(TIMESTAMP);
    expect(data.updated_at > data.created_at).toBe(true);
    expect(data.result?.type).toBe("image");
    expect(data.result?.urls).toHaveLength(2);
  });

  it("shows result null and failure_reason null while running", async () => {
    emulator.configure({ latencyMs: 10_000 });
    const taskId = await submitOk(emulator, { prompt: "slow" });
    const reply = await call(emulator, `/api/v1/task/${taskId}`);
    expect(reply.body).toMatchObject({ code: 0, msg: "ok", data: { status: "PENDING", result: null } });
    expect(reply.body.data).toHaveProperty("failure_reason", null);
  });

  it("answers 404 in the error envelope for an unknown task", async () => {
    const reply = await call(emulator, "/api/v1/task/00000000-0000-4000-8000-000000000000");
    expect(reply.status).toBe(404);
    expect(reply.body).toEqual({ code: 404, msg: "task not found" });
  });
});

describe("cancel", () => {
  it("cancels a PENDING task and reports CANCELLED with no result and no charge", async () => {
    emulator.configure({ latencyMs: 10_000 });
    const taskId = await submitOk(emulator, { prompt: "to cancel" });
    const reply = await call(emulator, `/api/v1/task/${taskId}/cancel`, { method: "POST" });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ code: 0, msg: "ok" });
    expect(emulator.getTask(taskId)).toMatchObject({
      status: "CANCELLED",
      result: null,
      failure_reason: null,
    });
    expect(emulator.counters.costUsd).toBe(0);
  });

  it("refuses to cancel past PENDING by default, and allows it in non-terminal mode", async () => {
    emulator.configure({ latencyMs: 3_000 });
    const taskId = await submitOk(emulator, { prompt: "started" });
    while (emulator.getTask(taskId)?.status === "PENDING") await new Promise((r) => setTimeout(r, 10));
    const refused = await call(emulator, `/api/v1/task/${taskId}/cancel`, { method: "POST" });
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({ code: 400, msg: expect.stringContaining("cannot be cancelled") });

    emulator.configure({ cancellable: "non-terminal" });
    const allowed = await call(emulator, `/api/v1/task/${taskId}/cancel`, { method: "POST" });
    expect(allowed.body).toEqual({ code: 0, msg: "ok" });
    expect(emulator.getTask(taskId)?.status).toBe("CANCELLED");
  });

  it("refuses a finished task and answers 404 for an unknown one", async () => {
    emulator.configure({ cancellable: "non-terminal" });
    const taskId = await submitOk(emulator, { prompt: "done" });
    await settle(emulator, taskId);
    const finished = await call(emulator, `/api/v1/task/${taskId}/cancel`, { method: "POST" });
    expect(finished.status).toBe(400);
    const unknown = await call(emulator, "/api/v1/task/nope/cancel", { method: "POST" });
    expect(unknown).toMatchObject({ status: 404, body: { code: 404, msg: "task not found" } });
  });
});
