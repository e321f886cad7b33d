import { GrokImageError, isGrokImageError } from "../errors.js";

/** Abort reason of the per-task deadline, so that it reads as GROK_TIMEOUT rather than GROK_ABORTED. */
export class DeadlineReached extends Error {
  override name = "DeadlineReached";
  readonly deadline: number;
  constructor(deadline: number) {
    super(`deadline ${new Date(deadline).toISOString()} reached`);
    this.deadline = deadline;
  }
}

/** A URL fit for a message: no user info, no query string (signed CDN URLs carry tokens there). */
export function describeUrl(url: string | URL): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}${parsed.search ? "?…" : ""}`;
  } catch {
    return "(invalid URL)";
  }
}

/** ` for <label>`, or nothing: how messages name the image the request was for. */
export const forLabel = (label: string | undefined): string => (label ? ` for ${label}` : "");

/** The error for a request that stopped because its signal aborted: GROK_TIMEOUT for the deadline, else GROK_ABORTED. */
export function abortedError(
  reason: unknown,
  what: string,
  context: { taskId?: string | undefined; label?: string | undefined } = {},
): GrokImageError {
  if (isGrokImageError(reason)) return reason;
  if (reason instanceof DeadlineReached) {
    const id = context.taskId ? ` (task ${context.taskId})` : "";
    return new GrokImageError(
      "GROK_TIMEOUT",
      `${what}${forLabel(context.label)}${id} did not finish before the deadline (${new Date(reason.deadline).toISOString()}).`,
      {
        taskId: context.taskId,
        hint: context.taskId
          ? "Raise the `timeout` option. The task may still finish remotely and may already be charged; the next build can pick it up from the pending journal."
          : "Raise the `timeout` option.",
      },
    );
  }
  return new GrokImageError("GROK_ABORTED", `${what}${forLabel(context.label)} was aborted.`, {
    taskId: context.taskId,
    cause: reason,
  });
}

/** Categories whose flag is `true` in a moderation 400 (`data.categories`). */
export function flaggedCategories(data: unknown): string[] {
  const categories = (data as { categories?: unknown } | null)?.categories;
  if (typeof categories !== "object" || categories === null) return [];
  return Object.entries(categories)
    .filter(([, flagged]) => flagged === true)
    .map(([name]) => name);
}

/** True for the documented pre-submission moderation refusal (MAXAPI.md §3). */
export function isModerationRefusal(code: number, msg: string, data: unknown): boolean {
  return (
    code === 400 &&
    msg === "content rejected by moderation" &&
    (data as { flagged?: unknown })?.flagged === true
  );
}

export function moderationRefusal(label: string | undefined, categories: string[]): GrokImageError {
  const list = categories.length > 0 ? categories.join(", ") : "no category named";
  return new GrokImageError(
    "GROK_MODERATION",
    `The prompt${forLabel(label)} was rejected by moderation (flagged: ${list}).`,
    {
      status: 400,
      hint: "Reword the prompt. Nothing was generated, and a moderation refusal is not charged.",
    },
  );
}

export function authError(method: string, url: string, status: number, apiMsg: string): GrokImageError {
  return new GrokImageError(
    "GROK_AUTH",
    `MaxAPI refused the API key: ${method} ${describeUrl(url)} answered ${status}${apiMsg ? ` (${apiMsg})` : ""}.`,
    {
      status,
      hint: "Check MAXAPI_KEY (or the `apiKey` option): it must be a current secret from the MaxAPI dashboard.",
    },
  );
}

/** Maps a terminal non-SUCCESS task to its error (MAXAPI.md §5 and §6). */
export function taskFailure(
  taskId: string,
  status: string,
  failureReason: string | null,
  label: string | undefined,
): GrokImageError {
  const task = `Task ${taskId}${forLabel(label)}`;
  if (status !== "FAILURE") {
    return new GrokImageError("GROK_TASK_FAILED", `${task} ended with status ${status}.`, {
      taskId,
      hint:
        status === "TIMEOUT"
          ? "The generation timed out on MaxAPI's side. Run the build again to submit a new task."
          : "The task was cancelled before it finished. Run the build again to submit a new task.",
    });
  }
  switch (failureReason) {
    case "CONTENT_MODERATION":
      return new GrokImageError(
        "GROK_MODERATION",
        `${task} failed: the prompt or result was rejected by content moderation.`,
        {
          taskId,
          hint: "Reword the prompt (avoid real people, public figures, copyrighted characters and NSFW content). Retrying the same prompt will fail again.",
        },
      );
    case "INVALID_PARAMETERS":
      return new GrokImageError(
        "GROK_INVALID_PARAMETERS",
        `${task} failed: MaxAPI rejected its parameters.`,
        {
          taskId,
          hint: "Fix the directive's parameters (n, ratio, resolution for the tier) before running again.",
        },
      );
    case "INSUFFICIENT_POINTS":
      return new GrokImageError(
        "GROK_INSUFFICIENT_POINTS",
        `${task} failed: the MaxAPI account has too few credits.`,
        {
          taskId,
          hint: "Recharge the MaxAPI account, then run the build again.",
        },
      );
    case null:
      return new GrokImageError(
        "GROK_TASK_FAILED",
        `${task} failed without a specific reason (a transient error on MaxAPI's side).`,
        {
          taskId,
          isRetryable: true,
          hint: "Submitting once more may succeed; that is a new, separately charged task.",
        },
      );
    default:
      return new GrokImageError("GROK_TASK_FAILED", `${task} failed: ${failureReason}.`, {
        taskId,
        hint: `MaxAPI reported a failure reason this version does not know (${failureReason}). Look the task up on the MaxAPI dashboard.`,
      });
  }
}
