import { describe, expect, it } from "vitest";
import { formatEvent, formatUsd } from "./format-event.js";

describe("formatUsd", () => {
  it("keeps sub-cent prices readable and the same everywhere", () => {
    expect([0, 0.001, 0.0012, 0.004, 0.015, 0.02, 0.5, 1, 12.5].map(formatUsd)).toEqual([
      "$0.00",
      "$0.001",
      "$0.0012",
      "$0.004",
      "$0.015",
      "$0.02",
      "$0.50",
      "$1.00",
      "$12.50",
    ]);
  });
});

describe("formatEvent", () => {
  it("says nothing for a build without directives, and uses singulars", () => {
    const plan = { type: "plan", generations: 0, hits: 0, misses: 0, estimatedCostUsd: 0 } as const;
    expect(formatEvent({ ...plan, directives: 0 })).toBeUndefined();
    expect(formatEvent({ ...plan, directives: 1, generations: 1, misses: 1, estimatedCostUsd: 0.0012 })).toBe(
      "1 directive → 1 generation: 0 cached, 1 to generate (about $0.0012)",
    );
    expect(formatEvent({ ...plan, directives: 3, generations: 2, hits: 2 })).toBe(
      "3 directives, all 2 generations cached",
    );
  });
});
