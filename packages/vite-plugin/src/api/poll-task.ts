import { GrokImageError } from "../errors.js";
import { abortedError, DeadlineReached, forLabel, taskFailure } from "./api-errors.js";
import { taskDurationMs } from "./latency-tracker.js";
import type { PollGroup } from "./poll-group.js";
import { PollPlan, type PollSchedule } from "./poll-schedule.js";
import { type TaskInfo, TERMINAL_STATUSES } from "./task-info.js";

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
 * The wait belongs to `group` (its client's waits): it learns from and wakes its siblings (see `PollSchedule`).
 * With the defaults, a task of 5-20 s whose duration is not known yet costs 3-5 queries; once a sibling of the
 * same model has finished, usually one.
 */
export async function pollTask(
  taskId: string,
  query: (signal: AbortSignal) => Promise<TaskInfo>,
  schedule: Required<PollSchedule>,
  group: PollGroup,
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
  const waiter = group.join(taskId);
  let plan: PollPlan | undefined;
  try {
    let lastStatus: string | undefined;
    for (;;) {
      const estimate = group.estimate(waiter.model);
      // Only a wait that starts blind takes a phase, so the blind ones of a batch spread evenly among themselves;
      // past the group's first few, they query later and count on a sibling's finish to wake them.
      plan ??= estimate
        ? new PollPlan(schedule, 0)
        : new PollPlan(schedule, group.nextPhase(), group.blind(waiter));
      await waiter.sleepUntil(plan.next(waiter.elapsedMs(), estimate), signal);
      const info = await query(signal);
      const model = info.input.model;
      if (typeof model === "string") waiter.model = model;
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
        // Failures are not learned: a refusal can come at once and would make every later wait query too early.
        group.succeeded(waiter, waiter.model, taskDurationMs(info) ?? waiter.elapsedMs());
        return info;
      }
      if (TERMINAL_STATUSES.has(info.status)) {
        const prompt = info.input.prompt;
        const named = label ?? (typeof prompt === "string" ? JSON.stringify(prompt) : undefined);
        throw taskFailure(taskId, info.status, info.failureReason, named);
      }
    }
  } catch (error) {
    if (signal.aborted) throw abortedError(signal.reason, `Task ${taskId}`, context);
    throw error;
  } finally {
    waiter.leave();
    clearTimeout(timer);
  }
}
