import { type Dispatcher, request } from "undici";
import { GrokImageError, redact } from "../errors.js";
import {
  abortedError,
  authError,
  describeUrl,
  flaggedCategories,
  forLabel,
  isModerationRefusal,
  moderationRefusal,
} from "./api-errors.js";
import {
  AttemptFailure,
  isRetryableStatus,
  networkCode,
  type Phase,
  parseRetryAfter,
  type RetryInfo,
  wasNeverSent,
  withRetry,
} from "./retry-policy.js";

/** What every API call needs; built once by the client. Internal. */
export interface ApiContext {
  readonly dispatcher: Dispatcher;
  readonly baseUrl: URL;
  readonly apiKey: string;
  readonly userAgent: string;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  readonly minRetryDelayMs: number;
  readonly maxRetryDelayMs: number;
  readonly onRetry: ((info: RetryInfo) => void) | undefined;
}

export interface ApiCall {
  readonly phase: Exclude<Phase, "download">;
  readonly method: "GET" | "POST";
  /** Path under the base URL, e.g. `/api/v1/task/submit`. */
  readonly path: string;
  readonly body?: unknown;
  readonly retries: number;
  readonly signal?: AbortSignal | undefined;
  readonly label?: string | undefined;
  readonly taskId?: string | undefined;
  /** Takes over 429 answers from the retry policy (see `SubmitOptions.onThrottled`). */
  readonly onThrottled?: ((retryAfterMs: number | undefined) => Promise<boolean>) | undefined;
}

/** API answers are small JSON envelopes; anything bigger is not MaxAPI talking. */
const MAX_ENVELOPE_BYTES = 1024 * 1024;

interface Envelope {
  code: number;
  msg: string;
  data: unknown;
}

/**
 * One API call with its phase's retry policy. Resolves with the envelope's `data` when HTTP status is 2xx and
 * `code === 0`; rejects with a `GrokImageError`. The Bearer key goes only to `baseUrl`'s origin, and redirects
 * are not followed, so it cannot be forwarded anywhere else.
 */
export async function callApi(ctx: ApiContext, call: ApiCall): Promise<unknown> {
  const url = new URL(call.path.replace(/^\//, ""), ctx.baseUrl);
  const what = `${call.method} ${describeUrl(url)}`;
  try {
    return await withRetry(() => attemptPastThrottling(ctx, call, url), {
      phase: call.phase,
      retries: call.retries,
      minDelayMs: ctx.minRetryDelayMs,
      maxDelayMs: ctx.maxRetryDelayMs,
      signal: call.signal,
      onRetry: ctx.onRetry,
    });
  } catch (error) {
    if (call.signal?.aborted) throw abortedError(call.signal.reason, what, call);
    throw error;
  }
}

/** One attempt; a 429 goes to `call.onThrottled`, which says when (and whether) to send the request again. */
async function attemptPastThrottling(ctx: ApiContext, call: ApiCall, url: URL): Promise<unknown> {
  for (;;) {
    try {
      return await attempt(ctx, call, url);
    } catch (error) {
      if (!call.onThrottled || !(error instanceof AttemptFailure) || error.error.status !== 429) throw error;
      if (!(await call.onThrottled(error.retryAfterMs))) throw new AttemptFailure(error.error, false);
    }
  }
}

async function attempt(ctx: ApiContext, call: ApiCall, url: URL): Promise<unknown> {
  const what = `${call.method} ${describeUrl(url)}${forLabel(call.label)}`;
  let response: Dispatcher.ResponseData;
  let text: string;
  try {
    response = await request(url, {
      dispatcher: ctx.dispatcher,
      method: call.method,
      headers: {
        authorization: `Bearer ${ctx.apiKey}`,
        "user-agent": ctx.userAgent,
        accept: "application/json",
        ...(call.body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: call.body === undefined ? null : JSON.stringify(call.body),
      signal: call.signal ?? null,
      headersTimeout: ctx.headersTimeoutMs,
      bodyTimeout: ctx.bodyTimeoutMs,
    });
    text = await readCapped(response.body, MAX_ENVELOPE_BYTES);
  } catch (error) {
    if (call.signal?.aborted) throw error;
    throw transportFailure(call, what, error, ctx.apiKey);
  }

  const { statusCode } = response;
  const envelope = parseEnvelope(text);
  const ok = statusCode >= 200 && statusCode < 300;
  if (ok && envelope?.code === 0) return envelope.data;

  if (ok && envelope === undefined) {
    const submit = call.phase === "submit";
    const error = new GrokImageError(
      "GROK_HTTP_ERROR",
      `${what} answered ${statusCode} with a body that is not a MaxAPI JSON envelope.`,
      {
        status: statusCode,
        taskId: call.taskId,
        hint: submit
          ? "The submit's outcome is unknown: a task may have been created and charged. Check the MaxAPI dashboard before running the build again."
          : "Check that `baseUrl` points at the MaxAPI origin (no proxy or captive portal in between).",
      },
    );
    throw new AttemptFailure(error, !submit);
  }

  // Non-2xx, or 2xx with a non-zero envelope code: the envelope code mirrors the HTTP status (MAXAPI.md §1).
  const status = ok ? (envelope?.code ?? statusCode) : statusCode;
  const msg = redact(envelope?.msg ?? "", ctx.apiKey);
  const apiCode = envelope?.code ?? status;
  if (status === 401 || status === 403 || apiCode === 401) {
    throw new AttemptFailure(authError(call.method, url.href, status, msg), false);
  }
  if (call.phase !== "submit" && (status === 400 || apiCode === 400)) {
    const error = new GrokImageError(
      "GROK_HTTP_ERROR",
      `MaxAPI refused ${call.method} ${describeUrl(url)}${call.taskId ? ` for task ${call.taskId}` : ""}: ${msg || "bad request"} (400).`,
      {
        status: 400,
        taskId: call.taskId,
        hint:
          call.phase === "cancel"
            ? "MaxAPI cancels only tasks that are still queued (PENDING); this one has started or already finished."
            : "Check `baseUrl` and the task id.",
      },
    );
    throw new AttemptFailure(error, false);
  }
  if (status === 400 || apiCode === 400) {
    if (envelope && isModerationRefusal(apiCode, envelope.msg, envelope.data)) {
      throw new AttemptFailure(moderationRefusal(call.label, flaggedCategories(envelope.data)), false);
    }
    const error = new GrokImageError(
      "GROK_INVALID_PARAMETERS",
      `MaxAPI rejected the request${forLabel(call.label)}: ${msg || "bad request"} (${call.method} ${describeUrl(url)}, 400).`,
      {
        status: 400,
        taskId: call.taskId,
        hint: "Fix the directive's parameters (n, ratio, resolution for the tier).",
      },
    );
    throw new AttemptFailure(error, false);
  }
  const retryable = isRetryableStatus(status);
  const error = new GrokImageError(
    "GROK_HTTP_ERROR",
    `${what} answered ${status}${msg ? ` (${msg})` : ""}${call.taskId ? ` for task ${call.taskId}` : ""}.`,
    {
      status,
      taskId: call.taskId,
      hint:
        status === 404 && call.taskId
          ? "MaxAPI does not know this task id: it may belong to another API key or have been purged."
          : retryable
            ? "MaxAPI is overloaded or failing; try again later."
            : "Check `baseUrl` and that the MaxAPI API is reachable.",
    },
  );
  throw new AttemptFailure(
    error,
    retryable,
    retryable ? parseRetryAfter(response.headers["retry-after"]) : undefined,
  );
}

/**
 * A request that failed on the wire. GETs (and cancel) retry any network error; the paid submit is retried only
 * when the request provably never left, because the API has no idempotency key to make a second send safe.
 */
function transportFailure(call: ApiCall, what: string, error: unknown, apiKey: string): AttemptFailure {
  const network = networkCode(error);
  const code = network ?? (error as { code?: string } | null)?.code ?? "unknown error";
  if (code === "UND_ERR_INVALID_ARG") {
    // undici checks the request before opening a connection: nothing left this machine, nothing was charged.
    return new AttemptFailure(
      new GrokImageError(
        "GROK_BAD_OPTION",
        `${what} was not sent: the HTTP client refused the request (${redact(String((error as Error).message), apiKey)}). Nothing reached MaxAPI.`,
        {
          cause: error,
          taskId: call.taskId,
          hint: "Check the API key (one line, no spaces) and `baseUrl`; nothing was charged.",
        },
      ),
      false,
    );
  }
  if (call.phase === "submit" && !wasNeverSent(error)) {
    return new AttemptFailure(
      new GrokImageError(
        "GROK_HTTP_ERROR",
        `${what} failed after the request was sent (${code}); MaxAPI may have created the task anyway.`,
        {
          cause: error,
          hint: "The submit's outcome is unknown and may have been charged, so it was not retried. Check the MaxAPI dashboard for a task with this prompt before running the build again.",
        },
      ),
      false,
    );
  }
  return new AttemptFailure(
    new GrokImageError("GROK_HTTP_ERROR", `${what} failed: ${code}.`, {
      cause: error,
      taskId: call.taskId,
      hint: "Check the network connection and that `baseUrl` is reachable.",
    }),
    network !== undefined,
  );
}

function parseEnvelope(text: string): Envelope | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const record = value as Record<string, unknown>;
  const code = typeof record.code === "number" ? record.code : Number(record.code);
  if (!Number.isInteger(code)) return undefined;
  return { code, msg: typeof record.msg === "string" ? record.msg : "", data: record.data ?? null };
}

/** Reads a whole body as text, destroying the socket instead of buffering past `limit`. */
async function readCapped(body: Dispatcher.ResponseData["body"], limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      body.destroy();
      break;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}
