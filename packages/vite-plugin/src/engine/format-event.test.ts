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

  it("says each task state once: the API's statuses that repeat a line make none", () => {
    const task = {
      type: "task",
      key: "k",
      prompt: "a fox",
      model: "grok-imagine/text-to-image-pro",
    } as const;
    expect(formatEvent({ ...task, state: "submitted", taskId: "t1" })).toBe(
      'submitted "a fox" [pro] task t1',
    );
    for (const state of ["PENDING", "SUBMITTED", "SUCCESS", "FAILURE", "TIMEOUT", "CANCELLED"]) {
      expect(formatEvent({ ...task, state, taskId: "t1" }), state).toBeUndefined();
    }
    expect(formatEvent({ ...task, state: "PROCESSING", taskId: "t1" })).toBe(
      'generating "a fox" [pro] task t1',
    );
    // A status MaxAPI does not document is news.
    expect(formatEvent({ ...task, state: "QUEUED_UPSTREAM", taskId: "t1" })).toBe(
      'queued_upstream "a fox" [pro] task t1',
    );
    expect(formatEvent({ ...task, state: "done", taskId: "t1", detail: "1 image in 6.2 s" })).toBe(
      'done "a fox" [pro] task t1 (1 image in 6.2 s)',
    );
    expect(formatEvent({ ...task, state: "failed", taskId: "t1", detail: "moderation" })).toBe(
      'failed "a fox" [pro] task t1 (moderation)',
    );
  });

  it("turns a task's whole run into two lines, three when the API says a worker has it", () => {
    const task = {
      type: "task",
      key: "k",
      prompt: "a fox",
      model: "grok-imagine/text-to-image-lite",
      taskId: "t1",
    } as const;
    const run = (states: string[]) => states.map((state) => formatEvent({ ...task, state })).filter(Boolean);
    expect(run(["submitted", "SUBMITTED", "SUCCESS", "done"])).toHaveLength(2);
    expect(run(["submitted", "PENDING", "SUBMITTED", "SUCCESS", "done"])).toHaveLength(2);
    expect(run(["submitted", "PENDING", "PROCESSING", "SUBMITTED", "SUCCESS", "done"])).toEqual([
      'submitted "a fox" [lite] task t1',
      'generating "a fox" [lite] task t1',
      'done "a fox" [lite] task t1',
    ]);
  });
});
