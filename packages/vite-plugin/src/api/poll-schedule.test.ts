import { describe, expect, it } from "vitest";
import type { LatencyEstimate } from "./latency-tracker.js";
import { MAX_WAKES } from "./poll-group.js";
import {
  DEFAULT_POLL,
  PollPlan,
  type PollSchedule,
  phaseOf,
  slackMs,
  WAKE_SHARE,
  wakeAt,
} from "./poll-schedule.js";

/** The elapsed times of the first `count` queries of a plan that never learns anything. */
function blindQueries(schedule: Required<PollSchedule>, phase: number, count: number, stretch = 1): number[] {
  const plan = new PollPlan(schedule, phase, stretch);
  const times: number[] = [];
  let elapsed = 0;
  for (let i = 0; i < count; i++) {
    elapsed = plan.next(elapsed, undefined);
    times.push(elapsed);
  }
  return times;
}

const known = (ms: number): LatencyEstimate => ({ lowMs: ms, typicalMs: ms, samples: 1 });

describe("phaseOf", () => {
  it("spreads any first n waits evenly over [0, 1)", () => {
    for (const n of [2, 4, 8, 16, 32]) {
      const phases = Array.from({ length: n }, (_, i) => phaseOf(i)).sort((a, b) => a - b);
      const gaps = phases.map((p, i) => (phases[i + 1] ?? 1 + (phases[0] as number)) - p);
      expect(Math.max(...gaps)).toBeLessThan(2 / n);
    }
  });
});

describe("PollPlan without an estimate", () => {
  it("puts the first query between initialDelayMs / factor and initialDelayMs, by phase", () => {
    expect(blindQueries(DEFAULT_POLL, 0, 1)).toEqual([1500]);
    const [late] = blindQueries(DEFAULT_POLL, 0.999, 1);
    expect(late).toBeGreaterThan(2990);
    expect(late).toBeLessThan(3000);
  });

  it("multiplies the elapsed time by factor per query, with at most maxDelayMs between two", () => {
    expect(blindQueries(DEFAULT_POLL, 0, 7)).toEqual([1500, 3000, 6000, 12_000, 22_000, 32_000, 42_000]);
    expect(
      blindQueries({ initialDelayMs: 30, maxDelayMs: 60, factor: 1.6 }, 1 - 1e-12, 4).map(Math.round),
    ).toEqual([30, 48, 77, 123]);
  });

  it("stretched (a follower of the group's scouts), queries that many times later, gaps included", () => {
    expect(blindQueries(DEFAULT_POLL, 0, 5, 6)).toEqual([9000, 18_000, 36_000, 72_000, 132_000]);
  });

  it("keeps its later queries in place when a sibling brings one forward", () => {
    const plan = new PollPlan(DEFAULT_POLL, 0);
    expect(plan.next(0, undefined)).toBe(1500);
    // Woken at 2000 ms, between its own 1500 and 3000 ms queries.
    expect(plan.next(2000, undefined)).toBe(3000);
  });
});

describe("PollPlan with an estimate", () => {
  it("sleeps until the fastest known duration plus a little slack, beyond maxDelayMs if need be", () => {
    const plan = new PollPlan(DEFAULT_POLL, 0);
    const estimate: LatencyEstimate = { lowMs: 18_000, typicalMs: 20_000, samples: 3 };
    expect(plan.next(0, estimate)).toBe(18_000 + slackMs(18_000));
  });

  it("then steps by a tenth of the typical duration, growing, capped by maxDelayMs", () => {
    const plan = new PollPlan(DEFAULT_POLL, 0);
    const estimate = known(12_000);
    let elapsed = plan.next(0, estimate);
    const steps: number[] = [];
    for (let i = 0; i < 8; i++) {
      const at = plan.next(elapsed, estimate);
      steps.push(at - elapsed);
      elapsed = at;
    }
    expect(steps.slice(0, 3)).toEqual([1200, 1800, 2700]);
    expect(Math.max(...steps)).toBe(DEFAULT_POLL.maxDelayMs);
  });

  it("never steps by less than 250 ms, or initialDelayMs when that is smaller", () => {
    const at = (schedule: Required<PollSchedule>) => {
      const plan = new PollPlan(schedule, 0);
      return plan.next(plan.next(0, known(500)), known(500)) - (500 + slackMs(500));
    };
    expect(at(DEFAULT_POLL)).toBe(250);
    expect(at({ initialDelayMs: 30, maxDelayMs: 60, factor: 2 })).toBe(50);
  });
});

describe("wakeAt", () => {
  it("leaves a wait alone that has not waited most of the finished task's duration", () => {
    expect(wakeAt(5000 * WAKE_SHARE - 1, 9000, 5000)).toBeUndefined();
  });

  it("brings the query to the finished duration (plus slack), or to now if that has passed", () => {
    expect(wakeAt(4800, 9000, 5000)).toBe(5000 + slackMs(5000));
    expect(wakeAt(6000, 9000, 5000)).toBe(6000);
  });

  it("does not wake a wait whose own query is due about then anyway", () => {
    expect(wakeAt(6000, 6050, 5000)).toBeUndefined();
  });
});

/**
 * One round of `n` waits started together on tasks that all take `durationMs`, with the client's rules: blind
 * geometric plans by phase, and the first finish seen bringing the sleeping siblings forward (at most
 * MAX_WAKES times each). Returns each wait's discovery delay past the duration and its query count.
 */
function blindRound(durationMs: number, n: number) {
  const waits = Array.from({ length: n }, (_, i) => {
    const plan = new PollPlan(DEFAULT_POLL, phaseOf(i));
    return {
      plan,
      next: plan.next(0, undefined),
      queries: 0,
      wakes: 0,
      doneAt: undefined as number | undefined,
    };
  });
  let estimate: LatencyEstimate | undefined;
  for (;;) {
    const live = waits.filter((w) => w.doneAt === undefined);
    if (live.length === 0) break;
    const wait = live.reduce((a, b) => (a.next <= b.next ? a : b));
    const now = wait.next;
    wait.queries++;
    if (now < durationMs) {
      wait.next = wait.plan.next(now, estimate);
      continue;
    }
    wait.doneAt = now;
    estimate = known(durationMs);
    for (const other of live) {
      if (other === wait || other.wakes >= MAX_WAKES) continue;
      const at = wakeAt(now, other.next, durationMs);
      if (at === undefined) continue;
      other.wakes++;
      other.next = at;
    }
  }
  return waits.map((w) => ({ lateMs: (w.doneAt as number) - durationMs, queries: w.queries }));
}

describe("a batch with the default schedule", () => {
  it("discovers a blind round of 8 equal tasks of 2-30 s within 11 % of their duration, in at most 6 queries", () => {
    for (let duration = 2000; duration <= 30_000; duration += 100) {
      const waits = blindRound(duration, 8);
      const worst = Math.max(...waits.map((w) => w.lateMs));
      expect(worst, `${duration} ms`).toBeLessThanOrEqual(duration * 0.11);
      expect(Math.max(...waits.map((w) => w.queries)), `${duration} ms`).toBeLessThanOrEqual(6);
    }
  });

  it("discovers a task whose duration it knows in one query, just after it finishes", () => {
    for (const duration of [2000, 5000, 12_000, 20_000]) {
      const plan = new PollPlan(DEFAULT_POLL, 0);
      const at = plan.next(0, known(duration));
      expect(at).toBeGreaterThan(duration);
      expect(at - duration).toBeLessThanOrEqual(100);
    }
  });
});
