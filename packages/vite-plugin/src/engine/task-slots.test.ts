import { describe, expect, it } from "vitest";
import { AUTO_CONCURRENCY, createTaskSlots, type SlotClock, type TaskSlot } from "./task-slots.js";

/** A clock that only moves when the test says so. */
function fakeClock(): SlotClock & { advance(ms: number): void } {
  let now = 0;
  const timers = new Map<number, { at: number; callback: () => void }>();
  let ids = 0;
  return {
    now: () => now,
    setTimeout(callback, ms) {
      const id = ++ids;
      timers.set(id, { at: now + ms, callback });
      return id;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    advance(ms) {
      now += ms;
      for (const [id, timer] of [...timers].sort((a, b) => a[1].at - b[1].at)) {
        if (timer.at > now) continue;
        timers.delete(id);
        timer.callback();
      }
    },
  };
}

/** Lets settled promises run their callbacks. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Starts `count` acquisitions and collects the slots as they are granted. */
function acquireMany(slots: ReturnType<typeof createTaskSlots>, count: number, into: TaskSlot[]) {
  return Array.from({ length: count }, () => slots.acquire().then((slot) => into.push(slot)));
}

describe("createTaskSlots", () => {
  it("holds a fixed number of slots, whatever the API accepts", async () => {
    const slots = createTaskSlots(3, fakeClock());
    const granted: TaskSlot[] = [];
    acquireMany(slots, 5, granted);
    await flush();
    expect(granted).toHaveLength(3);
    for (const slot of granted) slot.accepted();
    await flush();
    expect(slots.limit).toBe(3);
    expect(granted).toHaveLength(3);
    granted[0]?.release();
    granted[0]?.release();
    await flush();
    expect(granted).toHaveLength(4);
    expect(slots.inFlight).toBe(3);
  });

  it("auto starts at 8 and grows by one per accepted submit, up to its cap", async () => {
    const slots = createTaskSlots("auto", fakeClock());
    const granted: TaskSlot[] = [];
    acquireMany(slots, 200, granted);
    await flush();
    expect(slots.limit).toBe(AUTO_CONCURRENCY.initial);
    expect(granted).toHaveLength(8);
    // Every accepted submit lets one more go: 8 more per round of submits, from 8 to 64 in 7 rounds.
    for (let round = 0; round < 7; round++) {
      for (const slot of granted) slot.accepted();
      await flush();
    }
    expect(slots.limit).toBe(AUTO_CONCURRENCY.max);
    expect(granted).toHaveLength(AUTO_CONCURRENCY.max);
    // An accepted submit is counted once.
    granted[0]?.accepted();
    expect(slots.limit).toBe(AUTO_CONCURRENCY.max);
  });

  it("auto halves once per round of 429s, honours Retry-After, and re-admits the refused submit first", async () => {
    const clock = fakeClock();
    const slots = createTaskSlots("auto", clock);
    const granted: TaskSlot[] = [];
    acquireMany(slots, 40, granted);
    await flush();
    for (const slot of granted.slice(0, 8)) slot.accepted();
    await flush();
    expect(slots.limit).toBe(16);
    expect(granted).toHaveLength(16);

    // Two submits of the same round are refused: the limit halves once, not twice.
    const [refusedA, refusedB] = [granted[14] as TaskSlot, granted[15] as TaskSlot];
    const again: TaskSlot[] = [];
    void slots.throttled(refusedA, 2000).then((slot) => again.push(slot));
    void slots.throttled(refusedB, 2000).then((slot) => again.push(slot));
    await flush();
    expect(slots.limit).toBe(8);
    expect(slots.throttles).toBe(2);
    expect(slots.inFlight).toBe(14);

    // Tasks finish, but nothing is submitted before Retry-After has passed.
    for (const slot of granted.slice(0, 10)) slot.release();
    await flush();
    expect(again).toHaveLength(0);
    expect(granted).toHaveLength(16);
    clock.advance(1999);
    await flush();
    expect(again).toHaveLength(0);
    clock.advance(1);
    await flush();
    // 4 in flight under a limit of 8: the two refused submits go first, then two new ones.
    expect(again).toHaveLength(2);
    expect(granted).toHaveLength(18);
    expect(slots.inFlight).toBe(8);

    // From now on it grows by one per round of accepted submits, not one per submit.
    for (const slot of [...again, ...granted.slice(10)]) slot.accepted();
    await flush();
    expect(slots.limit).toBe(9);

    // A 429 to a submit sent after the halving starts a new round: it halves again.
    void slots.throttled(granted[17] as TaskSlot, undefined);
    await flush();
    expect(slots.limit).toBe(4);
  });

  it("keeps a fixed limit on a 429 but still waits for Retry-After", async () => {
    const clock = fakeClock();
    const slots = createTaskSlots(2, clock);
    const granted: TaskSlot[] = [];
    acquireMany(slots, 3, granted);
    await flush();
    const again: TaskSlot[] = [];
    void slots.throttled(granted[1] as TaskSlot, 500).then((slot) => again.push(slot));
    await flush();
    expect(slots.limit).toBe(2);
    expect(again).toHaveLength(0);
    clock.advance(500);
    await flush();
    // The refused submit goes before the one that was waiting.
    expect(again).toHaveLength(1);
    expect(granted).toHaveLength(2);
  });

  it("gives up a wait when its signal aborts", async () => {
    const slots = createTaskSlots(1, fakeClock());
    const first = await slots.acquire();
    const controller = new AbortController();
    const waiting = slots.acquire(controller.signal);
    controller.abort(new Error("stopped"));
    await expect(waiting).rejects.toThrow("stopped");
    first.release();
    expect(slots.inFlight).toBe(0);
    await expect(slots.acquire(controller.signal)).rejects.toThrow("stopped");
  });
});
