import { describe, expect, it } from "vitest";
import { call, LITE, PRO, STANDARD, settle, startSharedEmulator, submit, submitOk } from "./helpers.js";

const emulator = await startSharedEmulator({
  latencyMs: 15,
  imageScale: 0.1,
  faults: [{ phase: "submit", prompt: "blocked", fault: { type: "moderation" } }],
});

describe("counters", () => {
  it("count submits, tasks, queries, cancels and downloads live", async () => {
    const counters = emulator.counters;
    const a = await submitOk(emulator, { prompt: "alpha" });
    await submitOk(emulator, { prompt: "alpha" });
    await submit(emulator, { model: LITE, input: { prompt: "blocked word" } });
    await submit(emulator, { model: LITE }, {});
    const { data } = await settle(emulator, a);
    await fetch(data.result?.urls[0] as string);
    await call(emulator, "/api/v1/task/unknown/cancel", { method: "POST" });
    expect(counters).toMatchObject({
      submits: 4,
      submitsByPrompt: { alpha: 2, "blocked word": 1 },
      tasksCreated: 2,
      moderated: 1,
      downloads: 1,
      cancels: 1,
      cancelled: 0,
      cdnAuthorizationHeaders: 0,
    });
    expect(counters.queries).toBe(counters.queriesByTask[a]);
    expect(counters.queries).toBeGreaterThan(0);
  });

  it("charge the documented price x n on SUCCESS only", async () => {
    await settle(emulator, await submitOk(emulator, { prompt: "a", n: 3 }, LITE));
    await settle(emulator, await submitOk(emulator, { prompt: "b", n: 2 }, STANDARD));
    await settle(emulator, await submitOk(emulator, { prompt: "c", n: 10 }, PRO));
    emulator.inject({ phase: "submit", times: 1, fault: { type: "outcome", status: "FAILURE" } });
    await settle(emulator, await submitOk(emulator, { prompt: "d", n: 4 }, LITE));
    expect(emulator.counters.costUsd).toBe(0.003 + 0.0024 + 0.015);
  });

  it("reset zeroes them in place, forgets tasks and restores the configured faults", async () => {
    const counters = emulator.counters;
    const taskId = await submitOk(emulator, { prompt: "before reset" });
    emulator.clearFaults();
    expect((await submit(emulator, { model: LITE, input: { prompt: "blocked" } })).status).toBe(200);
    emulator.reset();
    expect(emulator.counters).toBe(counters);
    expect(counters).toMatchObject({ submits: 0, submitsByPrompt: {}, tasksCreated: 0, queriesByTask: {} });
    expect(emulator.getTask(taskId)).toBeUndefined();
    expect((await submit(emulator, { model: LITE, input: { prompt: "blocked" } })).status).toBe(400);
  });
});
