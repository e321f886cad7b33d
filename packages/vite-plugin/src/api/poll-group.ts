import { type LatencyEstimate, LatencyTracker } from "./latency-tracker.js";
import { phaseOf, wakeAt } from "./poll-schedule.js";

/** A sibling's finish may bring one wait's query forward this often: each costs a query, and queries are few. */
export const MAX_WAKES = 2;
/**
 * Blind waits (no duration known yet) that sample the timeline at once. A build that submits 64 tasks together
 * needs a few of them to find when the first one ends, not 64 sampling schedules: the others query later
 * (`FOLLOWER_STRETCH` times the schedule) and are woken by the first finish, so a task costs about two queries.
 */
export const SCOUTS = 8;
export const FOLLOWER_STRETCH = 6;
/** Models remembered from submits whose wait has not begun; a bound, should a caller never wait for some. */
const MAX_REMEMBERED = 1024;

/**
 * The waits of one client. A client serves one build's batch, whose tasks mostly share a model and a duration,
 * so what one wait learns (the duration, the moment a task finished) tells its siblings when to look.
 */
export class PollGroup {
  readonly tracker = new LatencyTracker();
  readonly #waiters = new Set<PollWaiter>();
  readonly #submitted = new Map<string, string>();
  #phases = 0;
  /** Scouts in progress per model (a task resumed from an earlier run has none until answered). */
  readonly #scouts = new Map<string | undefined, number>();

  /** Remembers a submitted task's model, so its wait can use that model's estimate from the first query on. */
  submitted(taskId: string, model: string): void {
    this.#submitted.set(taskId, model);
    if (this.#submitted.size > MAX_REMEMBERED) {
      const oldest = this.#submitted.keys().next().value;
      if (oldest !== undefined) this.#submitted.delete(oldest);
    }
  }

  /** Starts a wait for `taskId`; `leave()` it when the wait ends, however it ends. */
  join(taskId: string): PollWaiter {
    const model = this.#submitted.get(taskId);
    this.#submitted.delete(taskId);
    const waiter = new PollWaiter(this, model);
    this.#waiters.add(waiter);
    return waiter;
  }

  /** The learned duration of `model`'s tasks; a task resumed from an earlier run has no model until answered. */
  estimate(model: string | undefined): LatencyEstimate | undefined {
    return model === undefined ? undefined : this.tracker.estimate(model);
  }

  /** The phase of the next wait that starts without an estimate. */
  nextPhase(): number {
    return phaseOf(this.#phases++);
  }

  /**
   * A wait starts without an estimate: how much to stretch its schedule. The first `SCOUTS` at a time of its model
   * sample it as it is (1); the others wait for a scout's finish to wake them, querying `FOLLOWER_STRETCH` times
   * later.
   */
  blind(waiter: PollWaiter): number {
    const scouts = this.#scouts.get(waiter.model) ?? 0;
    if (scouts >= SCOUTS) return FOLLOWER_STRETCH;
    this.#scouts.set(waiter.model, scouts + 1);
    waiter.scout = waiter.model ?? null;
    return 1;
  }

  /**
   * A task of `model` succeeded after `durationMs`: learn it, and bring forward the query of every sibling that
   * has waited about as long, since its task, submitted about as early, is likely done too.
   */
  succeeded(from: PollWaiter, model: string | undefined, durationMs: number): void {
    if (model !== undefined) this.tracker.record(model, durationMs);
    for (const waiter of this.#waiters) {
      if (waiter === from || waiter.wakes >= MAX_WAKES) continue;
      if (waiter.model !== undefined && model !== undefined && waiter.model !== model) continue;
      const planned = waiter.plannedMs;
      if (planned === undefined) continue;
      const at = wakeAt(waiter.elapsedMs(), planned, durationMs);
      if (at === undefined) continue;
      waiter.wakes++;
      waiter.bringForward(at);
    }
  }

  leave(waiter: PollWaiter): void {
    if (!this.#waiters.delete(waiter) || waiter.scout === false) return;
    const model = waiter.scout ?? undefined;
    this.#scouts.set(model, (this.#scouts.get(model) ?? 1) - 1);
  }

  /** Waits in progress (for tests and diagnostics). */
  get size(): number {
    return this.#waiters.size;
  }
}

/** One wait: its clock, its model once known, and a sleep that a sibling's finish can shorten. */
export class PollWaiter {
  readonly #group: PollGroup;
  readonly #startedAt = performance.now();
  model: string | undefined;
  /** How often siblings brought this wait's query forward. */
  wakes = 0;
  /**
   * The model this blind wait samples the schedule for, for its siblings (`null`: a model not known yet), or false
   * when it is no scout (see `PollGroup.blind`).
   */
  scout: string | null | false = false;
  #sleep: { untilMs: number; timer: ReturnType<typeof setTimeout>; done: () => void } | undefined;

  constructor(group: PollGroup, model: string | undefined) {
    this.#group = group;
    this.model = model;
  }

  /** Milliseconds since the wait began, on the monotonic clock. */
  elapsedMs(): number {
    return performance.now() - this.#startedAt;
  }

  /** The elapsed time of the query this wait is sleeping towards; undefined while it is not sleeping. */
  get plannedMs(): number | undefined {
    return this.#sleep?.untilMs;
  }

  /** Sleeps until `elapsedMs` on this wait's clock, or sooner if a sibling brings it forward. */
  sleepUntil(elapsedMs: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = () => {
        this.#clear();
        reject(signal.reason);
      };
      const done = () => {
        signal.removeEventListener("abort", onAbort);
        this.#sleep = undefined;
        resolve();
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#arm(elapsedMs, done);
    });
  }

  /** Moves the current sleep's end to `elapsedMs` (at once if that has passed). */
  bringForward(elapsedMs: number): void {
    const sleep = this.#sleep;
    if (!sleep || elapsedMs >= sleep.untilMs) return;
    clearTimeout(sleep.timer);
    this.#arm(elapsedMs, sleep.done);
  }

  leave(): void {
    this.#clear();
    this.#group.leave(this);
  }

  #arm(untilMs: number, done: () => void): void {
    // Timers count whole milliseconds and may fire a fraction early on this clock; a query sent before its
    // planned time would not consume that point of the plan and would be repeated at once.
    const fire = () => {
      if (this.elapsedMs() < untilMs) this.#arm(untilMs, done);
      else done();
    };
    const timer = setTimeout(fire, Math.max(0, Math.ceil(untilMs - this.elapsedMs())));
    this.#sleep = { untilMs, timer, done };
  }

  #clear(): void {
    if (this.#sleep) clearTimeout(this.#sleep.timer);
    this.#sleep = undefined;
  }
}
