import { GrokImageError } from "../errors.js";
import { abortedError, DeadlineReached, forLabel, taskFailure } from "./api-errors.js";
import { sleep } from "./retry-policy.js";
import { type TaskInfo, TERMINAL_STATUSES } from "./task-info.js";

/** Adaptive polling: wait `initialDelayMs`, then grow each wait by `factor` up to `maxDelayMs`. */
export interface PollSchedule {
  /** Wait before the first query. Grok images take 5-20 s, so asking sooner only costs requests. @default 3000 */
  initialDelayMs?: number;
  /** Longest wait between two queries. @default 10000 */
  maxDelayMs?: number;
  /** Growth of the wait after each non-terminal answer. @default 1.6 */
  factor?: number;
}

export const DEFAULT_POLL = {
  initialDelayMs: 3000,
  maxDelayMs: 10_000,
  factor: 1.6,
} satisfies Required<PollSchedule>;

export interface WaitOptions {
  /** Epoch milliseconds after which the wait fails with GROK_TIMEOUT. */
  deadline: number;
  signal?: AbortSignal | undefined;
  /** Called with the first answer and whenever the status changes (unknown statuses included). */
  onStatus?: ((info: TaskInfo) => void) | undefined;
  /** How messages name the image, e.g. the directive. @default the prompt the task echoes back */
  label?: string | undefined;
}

/**
 * Queries a task until it is terminal. Resolves on SUCCESS only; maps FAILURE / TIMEOUT / CANCELLED to their
 * errors. Every sleep and query is cut short by the caller's signal or the deadline, whichever comes first.
 * With the defaults a task that takes 5-20 s costs 2-4 queries (at about 3, 7.8, 15.5 and 25.5 s).
 */
export async function pollTask(
  taskId: string,
  query: (signal: AbortSignal) => Promise<TaskInfo>,
  schedule: Required<PollSchedule>,
  options: WaitOptions,
): Promise<TaskInfo> {
  const { deadline, label } = options;
  const context = { taskId, label };
  const deadlineReached = new DeadlineReached(deadline);
  const remaining = deadline - Date.now();
  if (remaining <= 0) throw abortedError(deadlineReached, `Task ${taskId}`, context);
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(deadlineReached), remaining);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout.signal]) : timeout.signal;
  try {
    let delay = schedule.initialDelayMs;
    let lastStatus: string | undefined;
    for (;;) {
      await sleep(delay, signal);
      const info = await query(signal);
      if (info.status !== lastStatus) {
        lastStatus = info.status;
        options.onStatus?.(info);
      }
      if (info.status === "SUCCESS") {
        if (!info.result || info.result.urls.length === 0) {
          throw new GrokImageError(
            "GROK_TASK_FAILED",
            `Task ${taskId}${forLabel(label)} succeeded but returned no result URL.`,
            {
              taskId,
              hint: "Look the task up on the MaxAPI dashboard; run the build again to submit a new task.",
            },
          );
        }
        return info;
      }
      if (TERMINAL_STATUSES.has(info.status)) {
        const prompt = info.input.prompt;
        const named = label ?? (typeof prompt === "string" ? JSON.stringify(prompt) : undefined);
        throw taskFailure(taskId, info.status, info.failureReason, named);
      }
      delay = Math.min(delay * schedule.factor, schedule.maxDelayMs);
    }
  } catch (error) {
    if (signal.aborted) throw abortedError(signal.reason, `Task ${taskId}`, context);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
