import { describe, expect, it } from "vitest";
import { LatencyTracker, parseApiTimestamp, taskDurationMs } from "./latency-tracker.js";

describe("parseApiTimestamp", () => {
  it("reads the documented 6-digit form and the older form without a fraction", () => {
    expect(parseApiTimestamp("2026-02-10T21:54:46.686768Z")).toBe(Date.UTC(2026, 1, 10, 21, 54, 46, 686));
    expect(parseApiTimestamp("2026-02-11T10:00:00Z")).toBe(Date.UTC(2026, 1, 11, 10, 0, 0));
    expect(parseApiTimestamp("2026-02-11T12:00:00.5+02:00")).toBe(Date.UTC(2026, 1, 11, 10, 0, 0, 500));
  });

  it.each([
    null,
    undefined,
    "",
    "yesterday",
    "2026-02-11T10:00:00",
    "2026-02-11 10:00:00Z",
    "2026-13-45T99:00:00Z",
  ])("refuses %j", (value) => {
    expect(parseApiTimestamp(value)).toBeUndefined();
  });
});

describe("taskDurationMs", () => {
  it("is updated_at minus created_at across both forms", () => {
    expect(
      taskDurationMs({ createdAt: "2026-02-10T21:54:46.686768Z", updatedAt: "2026-02-10T21:55:04.039815Z" }),
    ).toBe(17_353);
    expect(
      taskDurationMs({ createdAt: "2026-02-11T10:00:00Z", updatedAt: "2026-02-11T10:00:12.250000Z" }),
    ).toBe(12_250);
  });

  it("is undefined when a timestamp is missing or the clock runs backwards", () => {
    expect(taskDurationMs({ createdAt: null, updatedAt: "2026-02-11T10:00:00Z" })).toBeUndefined();
    expect(
      taskDurationMs({ createdAt: "2026-02-11T10:00:05Z", updatedAt: "2026-02-11T10:00:00Z" }),
    ).toBeUndefined();
  });
});

describe("LatencyTracker", () => {
  it("knows nothing about a model it has not seen", () => {
    const tracker = new LatencyTracker();
    tracker.record("grok-imagine/text-to-image-lite", 5000);
    expect(tracker.estimate("grok-imagine/text-to-image-pro")).toBeUndefined();
  });

  it("estimates the fastest and the median recent duration per model", () => {
    const tracker = new LatencyTracker();
    for (const ms of [12_000, 9000, 15_000, 10_000]) tracker.record("lite", ms);
    tracker.record("pro", 30_000);
    expect(tracker.estimate("lite")).toEqual({ lowMs: 9000, typicalMs: 11_000, samples: 4 });
    expect(tracker.estimate("pro")).toEqual({ lowMs: 30_000, typicalMs: 30_000, samples: 1 });
  });

  it("forgets old durations, so the estimate follows a change of load", () => {
    const tracker = new LatencyTracker();
    tracker.record("lite", 1000);
    for (let i = 0; i < 16; i++) tracker.record("lite", 8000);
    expect(tracker.estimate("lite")).toEqual({ lowMs: 8000, typicalMs: 8000, samples: 16 });
  });

  it("ignores durations that are not finite non-negative numbers", () => {
    const tracker = new LatencyTracker();
    for (const ms of [Number.NaN, -5, Number.POSITIVE_INFINITY]) tracker.record("lite", ms);
    expect(tracker.estimate("lite")).toBeUndefined();
  });
});
