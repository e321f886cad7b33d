import pRetry from "p-retry";
import type { GrokImageError } from "../errors.js";
import { sleep } from "../shared/sleep.js";

/** The request phases the client retries separately; a job is never retried as a whole. */
export type Phase = "submit" | "query" | "download" | "cancel";

export interface RetryInfo {
  phase: Phase;
  /** The attempt that just failed, from 1. */
  attempt: number;
  /** How long the client waits before the next attempt. */
  delayMs: number;
  /** Why the attempt failed, without secrets. */
  reason: string;
}

/**
 * Failures that happen before a single byte of the request can have reached the server. Only these make a
 * retried submit safe: the API has no idempotency key, so a submit that may have arrived must never be sent again.
 */
const NOT_SENT_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "UND_ERR_CONNECT_TIMEOUT"]);

/** Network failures worth another try for the safe GETs (undici's own list lacks the timeout codes). */
const NETWORK_CODES = new Set([
  ...NOT_SENT_CODES,
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_RES_CONTENT_LENGTH_MISMATCH",
]);

/** The `code` of a Node or undici error, looking through `cause` (undici wraps connect errors). */
export function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && NETWORK_CODES.has(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export const isNetworkError = (error: unknown): boolean => networkCode(error) !== undefined;

/** True when the request provably never reached the server, so even the paid submit may be sent again. */
export function wasNeverSent(error: unknown): boolean {
  const code = networkCode(error);
  return code !== undefined && NOT_SENT_CODES.has(code);
}

/** 408, 429 and 5xx are worth another try: the server says "not now", not "no". */
export const isRetryableStatus = (status: number): boolean =>
  status === 408 || status === 429 || (status >= 500 && status <= 599);

/** Server-given delays above this are ignored in favour of our own backoff, as the OpenAI and AI SDKs do. */
export const MAX_RETRY_AFTER_MS = 60_000;

/** `Retry-After` as delta-seconds or an HTTP date, in milliseconds; `undefined` when absent, invalid or > 60 s. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw.trim() === "") return undefined;
  const trimmed = raw.trim();
  const ms = /^\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) * 1000 : Date.parse(trimmed) - now;
  if (!Number.isFinite(ms)) return undefined;
  const clamped = Math.max(0, ms);
  return clamped <= MAX_RETRY_AFTER_MS ? clamped : undefined;
}

/**
 * What one failed attempt tells the retry loop. `error` is what the caller gets when no retry follows;
 * it is built by the attempt, which alone knows the method, URL and task.
 */
export class AttemptFailure extends Error {
  override name = "AttemptFailure";
  readonly error: GrokImageError;
  /** Whether this phase may try again. */
  readonly retryable: boolean;
  /** A sane server-given delay (`Retry-After`), if any. */
  readonly retryAfterMs: number | undefined;
  constructor(error: GrokImageError, retryable: boolean, retryAfterMs?: number) {
    super(error.message, { cause: error });
    this.error = error;
    this.retryable = retryable;
    this.retryAfterMs = retryAfterMs;
  }
}

export interface RetryOptions {
  phase: Phase;
  retries: number;
  minDelayMs: number;
  maxDelayMs: number;
  signal?: AbortSignal | undefined;
  onRetry?: ((info: RetryInfo) => void) | undefined;
}

/**
 * Runs one phase with p-retry. Backoff: `minDelayMs × 2^n`, randomized ×1-2 by p-retry, capped at `maxDelayMs`;
 * a `Retry-After` longer than that is honoured by waiting the difference. Only `AttemptFailure`s marked
 * retryable are retried. Rejects with the `GrokImageError` of the last attempt, or with the signal's reason.
 */
export async function withRetry<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const { signal } = options;
  let attempts = 0;
  try {
    return await pRetry(
      (attemptNumber) => {
        attempts = attemptNumber;
        return attempt(attemptNumber);
      },
      {
        retries: options.retries,
        factor: 2,
        minTimeout: options.minDelayMs,
        maxTimeout: options.maxDelayMs,
        randomize: true,
        signal,
        shouldRetry: async ({ error, attemptNumber, retryDelay }) => {
          if (!(error instanceof AttemptFailure) || !error.retryable) return false;
          const extra = Math.max(0, (error.retryAfterMs ?? 0) - retryDelay);
          options.onRetry?.({
            phase: options.phase,
            attempt: attemptNumber,
            delayMs: retryDelay + extra,
            reason: error.error.message,
          });
          if (extra > 0) await sleep(extra, signal);
          return true;
        },
      },
    );
  } catch (error) {
    if (!(error instanceof AttemptFailure)) throw error;
    if (attempts > 1) error.error.message += ` (gave up after ${attempts} attempts)`;
    throw error.error;
  }
}
