import { describe, expect, it } from "vitest";
import { generation, useEmulatorClient } from "./__test__/support.js";
import { FOLLOWER_STRETCH, MAX_WAKES, PollGroup, SCOUTS } from "./poll-group.js";

describe("PollGroup", () => {
  it("brings forward only sleeping waits of the finished task's model, at most MAX_WAKES times", async () => {
    const group = new PollGroup();
    group.submitted("t-lite", "lite");
    group.submitted("t-pro", "pro");
    const finisher = group.join("t-done");
    const lite = group.join("t-lite");
    const pro = group.join("t-pro");
    const stop = new AbortController();
    try {
      const liteSleep = lite.sleepUntil(60_000, stop.signal);
      const proSleep = pro.sleepUntil(60_000, stop.signal).catch(() => "aborted");
      group.succeeded(finisher, "lite", 0);
      expect(lite.plannedMs).toBeLessThan(60_000);
      expect(pro.plannedMs).toBe(60_000);
      // Resolves only because it was brought forward; otherwise the test times out.
      await liteSleep;
      expect(lite.wakes).toBe(1);

      const again = lite.sleepUntil(60_000, stop.signal).catch(() => "aborted");
      for (let i = 0; i < MAX_WAKES + 2; i++) group.succeeded(finisher, "lite", 0);
      await again;
      expect(lite.wakes).toBe(MAX_WAKES);
      const last = lite.sleepUntil(60_000, stop.signal).catch(() => "aborted");
      group.succeeded(finisher, "lite", 0);
      expect(lite.plannedMs).toBe(60_000);
      stop.abort();
      expect(await last).toBe("aborted");
      expect(await proSleep).toBe("aborted");
    } finally {
      stop.abort();
      for (const waiter of [finisher, lite, pro]) waiter.leave();
    }
    expect(group.size).toBe(0);
  });

  it("lets its first SCOUTS blind waits sample the schedule, and stretches the others until a scout leaves", () => {
    const group = new PollGroup();
    for (let i = 0; i < SCOUTS + 3; i++) group.submitted(`blind-${i}`, "lite");
    const waits = Array.from({ length: SCOUTS + 3 }, (_, i) => group.join(`blind-${i}`));
    // Scouts are counted per model: another model's first waits sample their own timeline.
    group.submitted("pro-0", "pro");
    const pro = group.join("pro-0");
    expect(waits.map((waiter) => group.blind(waiter))).toEqual([
      ...Array(SCOUTS).fill(1),
      ...Array(3).fill(FOLLOWER_STRETCH),
    ]);
    expect(group.blind(pro)).toBe(1);
    (waits[0] as (typeof waits)[0]).leave();
    group.submitted("blind-next", "lite");
    const next = group.join("blind-next");
    expect(group.blind(next)).toBe(1);
    for (const waiter of [...waits, next, pro]) waiter.leave();
    expect(group.size).toBe(0);
    // Every scout place is free again.
    for (let i = 0; i < SCOUTS; i++) group.submitted(`again-${i}`, "lite");
    const fresh = Array.from({ length: SCOUTS }, (_, i) => group.join(`again-${i}`));
    expect(fresh.map((waiter) => group.blind(waiter))).toEqual(Array(SCOUTS).fill(1));
    for (const waiter of fresh) waiter.leave();
  });

  it("learns durations per model, and nothing from a wait of unknown model", () => {
    const group = new PollGroup();
    const resumed = group.join("from-an-earlier-run");
    group.succeeded(resumed, undefined, 4000);
    expect(group.estimate("lite")).toBeUndefined();
    group.succeeded(resumed, "lite", 4000);
    expect(group.estimate("lite")).toMatchObject({ lowMs: 4000, typicalMs: 4000 });
    expect(group.estimate(undefined)).toBeUndefined();
    resumed.leave();
  });
});

describe("concurrent waits of one client", () => {
  const TASKS = 6;
  // A steep blind schedule: a wait's second query lands anywhere from 0.1 s to 5 s and its third after a
  // minute, so most waits reach their task's end before the deadline only if a sibling's finish wakes them.
  const api = useEmulatorClient({
    key: "sk-poll-group-wake-71d3",
    latencyMs: 400,
    clientOptions: { poll: { initialDelayMs: 100, factor: 100, maxDelayMs: 60_000 } },
  });

  it("are all discovered once the first finish is seen, with few queries each", {
    timeout: 15_000,
  }, async () => {
    const submitted = await Promise.all(
      Array.from({ length: TASKS }, (_, i) => api.client.submit(generation(`sibling ${i}`))),
    );
    const ids = submitted.map((s) => s.taskId);
    let atFirstFinish: Record<string, number> | undefined;
    const deadline = Date.now() + 5000;
    const results = await Promise.allSettled(
      ids.map((taskId) =>
        api.client.waitForTask(taskId, {
          deadline,
          onStatus: (info) => {
            if (info.status === "SUCCESS") atFirstFinish ??= { ...api.emu.counters.queriesByTask };
          },
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(ids.map(() => "fulfilled"));
    const before = atFirstFinish ?? {};
    for (const taskId of ids) {
      const total = api.emu.counters.queriesByTask[taskId] ?? 0;
      // Two own queries at most before the first finish (the third is a minute out), then the wakes'.
      expect(before[taskId] ?? 0).toBeLessThanOrEqual(2);
      expect(total - (before[taskId] ?? 0)).toBeLessThanOrEqual(MAX_WAKES);
    }
  });
});

describe("a later wait of the same client", () => {
  const api = useEmulatorClient({
    key: "sk-poll-group-learn-5e0a",
    latencyMs: 300,
    clientOptions: { poll: { initialDelayMs: 20, factor: 2, maxDelayMs: 10_000 } },
  });

  it("sleeps until the learned duration instead of walking the blind schedule", async () => {
    const wait = async (prompt: string) => {
      const { taskId } = await api.client.submit(generation(prompt));
      const statuses: string[] = [];
      await api.client.waitForTask(taskId, {
        deadline: Date.now() + 10_000,
        onStatus: (info) => statuses.push(info.status),
      });
      return { first: statuses[0], queries: api.emu.counters.queriesByTask[taskId] ?? 0 };
    };
    // Blind, the first query comes by 20 ms, while the emulated task is still PENDING (its first 100 ms).
    expect((await wait("first of the batch")).first).toBe("PENDING");
    // Learned, the first query comes just after 300 ms; a fine step or two more only if the emulator ran late.
    const learned = await wait("second of the batch");
    expect(learned.first).toMatch(/^(SUCCESS|SUBMITTED)$/);
    expect(learned.queries).toBeLessThanOrEqual(3);
  });
});
