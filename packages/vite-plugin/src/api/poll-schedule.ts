import type { LatencyEstimate } from "./latency-tracker.js";

/**
 * When `waitForTask` queries a task. Until the client has seen a task of the same model finish, the queries follow
 * a geometric schedule: the first after about `initialDelayMs`, each later one `factor` times as long after the
 * wait began as the one before, with at most `maxDelayMs` between two. Once a duration is known, a wait sleeps
 * until about that duration, then steps finely; a sibling's finish brings a sleeping wait's query forward.
 */
export interface PollSchedule {
  /**
   * First query while no task duration is known yet. Concurrent waits spread their first query between
   * `initialDelayMs / factor` and `initialDelayMs`, so that together they sample the timeline densely and the
   * first finish they see wakes the rest. Grok images take 5-20 s, so asking much sooner only costs
   * requests. @default 3000
   */
  initialDelayMs?: number;
  /** Longest wait between two queries, except the sleep until a learned duration. @default 10000 */
  maxDelayMs?: number;
  /**
   * Ratio of the time since the wait began between a query and the one before it, while no task duration is
   * known: 2 costs one query per doubling of the task's duration. @default 2
   */
  factor?: number;
}

export const DEFAULT_POLL = {
  initialDelayMs: 3000,
  maxDelayMs: 10_000,
  factor: 2,
} satisfies Required<PollSchedule>;

/** Fine steps past the learned duration start at a tenth of it: a late discovery costs at most about 10 %. */
const FINE_FRACTION = 0.1;
/** ... but not below this, so a short task cannot cost a query every few milliseconds. */
const FINE_FLOOR_MS = 250;
/** ... and they grow, so a task that runs far longer than its siblings still costs few queries. */
const FINE_GROWTH = 1.5;
/** Siblings are woken once their own wait is this share of a finished task's duration. */
export const WAKE_SHARE = 0.9;

/**
 * Slack added to a learned duration before querying. The wait starts after the submit answered (and the task
 * was journaled), so a task of the same duration is already done by then; the slack only absorbs timer jitter.
 */
export function slackMs(durationMs: number): number {
  return Math.min(Math.max(durationMs * 0.01, 10), 100);
}

/**
 * The phase of the n-th uninformed wait of a client, in [0, 1): the golden-ratio sequence, which spreads any
 * number of concurrent waits evenly, so that however many run, their queries interleave.
 */
export function phaseOf(n: number): number {
  return (n * 0.618_033_988_749_895) % 1;
}

/**
 * The query plan of one wait. `next` is pure given its inputs and the queries planned so far, so the schedule
 * can be checked without timers.
 */
export class PollPlan {
  readonly #schedule: Required<PollSchedule>;
  /** Elapsed time of the next query on the geometric schedule. */
  #due: number;
  #fineSteps = 0;
  readonly #stretch: number;

  /**
   * @param stretch how much later than the schedule a blind wait queries (its points and its longest gap): a wait
   *   that leaves the sampling to its siblings and counts on their finish to wake it (see `PollGroup.blind`).
   */
  constructor(schedule: Required<PollSchedule>, phase: number, stretch = 1) {
    this.#schedule = schedule;
    this.#stretch = stretch;
    // The phase shifts the whole schedule by a share of one growth step, so concurrent waits interleave.
    this.#due = schedule.initialDelayMs * stretch * growth(schedule) ** (phase - 1);
  }

  /** Time since the wait began at which to send the next query, planned at `elapsedMs`. */
  next(elapsedMs: number, estimate: LatencyEstimate | undefined): number {
    const { maxDelayMs, initialDelayMs } = this.#schedule;
    if (estimate) {
      const due = estimate.lowMs + slackMs(estimate.lowMs);
      // Not capped by `maxDelayMs`: a query before the fastest sibling's duration would almost surely be wasted.
      if (elapsedMs < due) return due;
      const floor = Math.min(FINE_FLOOR_MS, initialDelayMs);
      const step = Math.max(estimate.typicalMs * FINE_FRACTION, floor) * FINE_GROWTH ** this.#fineSteps;
      this.#fineSteps++;
      return elapsedMs + Math.min(step, maxDelayMs);
    }
    // A query brought forward by a sibling's finish leaves the schedule's later points where they were.
    const maxGapMs = maxDelayMs * this.#stretch;
    while (this.#due <= elapsedMs) {
      this.#due = Math.min(this.#due * growth(this.#schedule), this.#due + maxGapMs);
    }
    return Math.min(this.#due, elapsedMs + maxGapMs);
  }
}

const growth = (schedule: Required<PollSchedule>) => Math.max(schedule.factor, 1.01);

/**
 * Whether a sibling's finish (after `durationMs`) should bring a sleeping wait's query forward: only when the wait
 * has run at least `WAKE_SHARE` of that duration and the query would move meaningfully earlier than
 * `plannedMs`. Returns the new elapsed time to query at, or undefined to leave the wait alone.
 */
export function wakeAt(elapsedMs: number, plannedMs: number, durationMs: number): number | undefined {
  if (elapsedMs < durationMs * WAKE_SHARE) return undefined;
  const at = Math.max(elapsedMs, durationMs + slackMs(durationMs));
  const gain = Math.max(10, durationMs * 0.02);
  return at < plannedMs - gain ? at : undefined;
}
