import { GrokImageError } from "../errors.js";

/** A task as `GET /api/v1/task/{taskId}` reports it, normalized to camelCase. */
export interface TaskInfo {
  taskId: string;
  /** Documented: PENDING, PROCESSING, SUBMITTED, SUCCESS, FAILURE, TIMEOUT, CANCELLED. Others are passed through. */
  status: string;
  /** The submitted `input` echoed back, with `model` inside it. */
  input: Record<string, unknown>;
  /** Set only on SUCCESS. */
  result: { type: string; urls: string[] } | null;
  /** CONTENT_MODERATION, INVALID_PARAMETERS, INSUFFICIENT_POINTS, another string, or null. */
  failureReason: string | null;
  /** ISO-8601 UTC, as sent (with or without fractional seconds). */
  createdAt: string | null;
  updatedAt: string | null;
}

/** The statuses after which a task never changes again. */
export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(["SUCCESS", "FAILURE", "TIMEOUT", "CANCELLED"]);

const str = (value: unknown): string | null => (typeof value === "string" ? value : null);

/**
 * Normalizes the query's `data`. Tolerant where the docs disagree across versions (a missing `failure_reason`,
 * a trimmed `input` echo); strict only where the client cannot go on without a value.
 */
export function parseTaskInfo(data: unknown, expectedTaskId: string): TaskInfo {
  const record = typeof data === "object" && data !== null ? (data as Record<string, unknown>) : undefined;
  const status = str(record?.status);
  if (!record || !status) {
    throw new GrokImageError(
      "GROK_HTTP_ERROR",
      `MaxAPI answered the query for task ${expectedTaskId} without a task status.`,
      {
        taskId: expectedTaskId,
        hint: "Check that `baseUrl` points at the MaxAPI API.",
      },
    );
  }
  const input =
    typeof record.input === "object" && record.input !== null
      ? (record.input as Record<string, unknown>)
      : {};
  return {
    taskId: str(record.taskId) ?? expectedTaskId,
    status,
    input,
    result: parseResult(record.result),
    failureReason: str(record.failure_reason) ?? str(record.failureReason),
    createdAt: str(record.created_at) ?? str(record.createdAt),
    updatedAt: str(record.updated_at) ?? str(record.updatedAt),
  };
}

function parseResult(value: unknown): TaskInfo["result"] {
  if (typeof value !== "object" || value === null) return null;
  const { type, urls } = value as { type?: unknown; urls?: unknown };
  return {
    type: typeof type === "string" ? type : "image",
    urls: Array.isArray(urls) ? urls.filter((url): url is string => typeof url === "string") : [],
  };
}
