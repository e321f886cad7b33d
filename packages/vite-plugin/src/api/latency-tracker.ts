import type { TaskInfo } from "./task-info.js";

/** What a client has learned about how long one model's tasks take. */
export interface LatencyEstimate {
  /** The fastest recent task: a first query before this would almost surely find the task still running. */
  lowMs: number;
  /** The median recent task: the scale of the fine steps once a task has run longer than `lowMs`. */
  typicalMs: number;
  /** How many durations the estimate rests on. */
  samples: number;
}

// `2026-02-10T21:54:46.686768Z` (the documented form) and `2026-02-11T10:00:00Z` (an older example); an explicit
// offset is accepted too. A string without a zone is refused: `Date.parse` would read it as local time.
const API_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})$/;

/** Epoch milliseconds of a MaxAPI timestamp, or undefined when it is missing or not in a documented form. */
export function parseApiTimestamp(value: string | null | undefined): number | undefined {
  if (typeof value !== "string" || !API_TIME.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * The task's own submit-to-terminal time by the API's clock (`updated_at - created_at`): unlike the time a
 * client waited, it holds no network time and no time spent before the wait began, so it transfers to other
 * tasks. Undefined when either timestamp is unusable or they run backwards.
 */
export function taskDurationMs(info: Pick<TaskInfo, "createdAt" | "updatedAt">): number | undefined {
  const created = parseApiTimestamp(info.createdAt);
  const updated = parseApiTimestamp(info.updatedAt);
  if (created === undefined || updated === undefined || updated < created) return undefined;
  return updated - created;
}

/** Durations kept per model: enough for a stable median, few enough to follow a change of load within a batch. */
const WINDOW = 16;

/** Recent successful task durations per model, as one client (one build's batch) observed them. */
export class LatencyTracker {
  readonly #recent = new Map<string, number[]>();

  record(model: string, durationMs: number): void {
    if (!(durationMs >= 0) || !Number.isFinite(durationMs)) return;
    let list = this.#recent.get(model);
    if (!list) {
      list = [];
      this.#recent.set(model, list);
    }
    list.push(durationMs);
    if (list.length > WINDOW) list.shift();
  }

  estimate(model: string): LatencyEstimate | undefined {
    const list = this.#recent.get(model);
    if (!list || list.length === 0) return undefined;
    const sorted = [...list].sort((a, b) => a - b);
    const middle = sorted.length >> 1;
    const median =
      sorted.length % 2 === 1
        ? (sorted[middle] as number)
        : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
    return { lowMs: sorted[0] as number, typicalMs: median, samples: sorted.length };
  }
}
