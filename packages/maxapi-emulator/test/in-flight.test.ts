import { describe, expect, it } from "vitest";
import { startEmulator } from "../src/index.js";
import { LITE, settle, startSharedEmulator, submit, submitOk } from "./helpers.js";

// Tasks long enough to still be running while the test submits more.
const emulator = await startSharedEmulator(
  { latencyMs: 400, imageScale: 0.1, maxTasksInFlight: 2 },
  (shared) => shared.configure({ maxTasksInFlight: 2, inFlightRetryAfter: 1 }),
);

describe("maxTasksInFlight", () => {
  it("answers 429 with Retry-After above the limit, creating and charging nothing", async () => {
    const first = await submitOk(emulator, { prompt: "one" });
    await submitOk(emulator, { prompt: "two" });
    const refused = await submit(emulator, { model: LITE, input: { prompt: "three" } });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(refused.body).toEqual({ code: 429, msg: "too many tasks in flight" });
    expect(emulator.counters).toMatchObject({
      submits: 3,
      tasksCreated: 2,
      throttled: 1,
      peakTasksInFlight: 2,
    });

    // A terminal task frees its place.
    await settle(emulator, first);
    await submitOk(emulator, { prompt: "three" });
    expect(emulator.counters).toMatchObject({ tasksCreated: 3, throttled: 1, peakTasksInFlight: 2 });
  });

  it("frees a place when a task is cancelled, and can be changed on a running server", async () => {
    const first = await submitOk(emulator, { prompt: "one" });
    await submitOk(emulator, { prompt: "two" });
    expect((await submit(emulator, { model: LITE, input: { prompt: "three" } })).status).toBe(429);
    const cancel = await fetch(`${emulator.url}/api/v1/task/${first}/cancel`, {
      method: "POST",
      headers: { authorization: "Bearer test-key" },
    });
    expect(cancel.status).toBe(200);
    await submitOk(emulator, { prompt: "three" });

    emulator.configure({ maxTasksInFlight: 4, inFlightRetryAfter: 3 });
    await submitOk(emulator, { prompt: "four" });
    await submitOk(emulator, { prompt: "five" });
    const refused = await submit(emulator, { model: LITE, input: { prompt: "six" } });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("3");
    expect(emulator.counters.peakTasksInFlight).toBe(4);
  });

  it("is off by default, and rejects a limit that is not a whole number >= 1", async () => {
    const open = await startEmulator({ latencyMs: 400, imageScale: 0.1 });
    try {
      const replies = await Promise.all(
        Array.from({ length: 12 }, (_, i) => submit(open, { model: LITE, input: { prompt: `p${i}` } })),
      );
      expect(replies.map((reply) => reply.status)).toEqual(Array(12).fill(200));
      expect(open.counters).toMatchObject({ throttled: 0, peakTasksInFlight: 12 });
    } finally {
      await open.close();
    }
    for (const bad of [0, 2.5, -1]) {
      await expect(startEmulator({ maxTasksInFlight: bad })).rejects.toThrow(/maxTasksInFlight/);
    }
    expect(() => emulator.configure({ inFlightRetryAfter: -1 })).toThrow(/inFlightRetryAfter/);
  });
});
