import { readFileSync } from "node:fs";
import { Agent, type Dispatcher, interceptors } from "undici";
import { GrokImageError } from "../errors.js";
import { apiKeyProblem } from "../options/api-key.js";
import type { Generation } from "../types.js";
import { downloadImage } from "./download.js";
import { type ApiContext, callApi } from "./http.js";
import { PollGroup } from "./poll-group.js";
import { DEFAULT_POLL, type PollSchedule } from "./poll-schedule.js";
import { pollTask, type WaitOptions } from "./poll-task.js";
import type { RetryInfo } from "./retry-policy.js";
import { parseTaskInfo, type TaskInfo } from "./task-info.js";

export type { PollSchedule } from "./poll-schedule.js";
export type { RetryInfo } from "./retry-policy.js";
export type { TaskInfo } from "./task-info.js";

export interface MaxApiClientOptions {
  /** Bearer secret. Sent only to the `baseUrl` origin; never to download hosts, never in an error. */
  apiKey: string;
  /** API origin, e.g. `https://api.maxapi.io` or an emulator's URL. */
  baseUrl: string;
  /** Transport. @default an own undici `Agent` (8 connections per origin, 10 s connect timeout), closed by `close()` */
  dispatcher?: Dispatcher;
  /** @default "grok-image/<package version>" */
  userAgent?: string;
  /**
   * Retries of the submit, for failures where the request provably never reached MaxAPI, or a 429/5xx answer.
   * Queries and downloads are safe to repeat and use `max(retries, 4)`.
   * @default 2
   */
  retries?: number;
  /** First retry delay; doubles per retry, randomized ×1-2. @default 1000 */
  minRetryDelayMs?: number;
  /** Cap of one retry delay (a `Retry-After` up to 60 s is still honoured). @default 30000 */
  maxRetryDelayMs?: number;
  /** Largest download accepted. @default 52428800 (50 MiB) */
  maxDownloadBytes?: number;
  /**
   * Polling schedule of `waitForTask`. The client learns its tasks' durations as they finish (per model) and
   * shares them among its waits, so one client should serve one batch.
   */
  poll?: PollSchedule;
  /** Per-request timeouts. */
  timeouts?: {
    /** TCP/TLS connect. @default 10000 */
    connectMs?: number;
    /** Until the response headers arrive. @default 30000 */
    headersMs?: number;
    /** Between two body chunks. @default 30000 */
    bodyMs?: number;
  };
  /** Called before every retry, e.g. to log it. */
  onRetry?: (info: RetryInfo) => void;
  /**
   * Receives the one warning the client has about its own settings: a plain `http://` `baseUrl` on another host
   * than this machine, where the key travels unencrypted. Said once per origin and process.
   * @default `process.emitWarning`
   */
  onWarning?: (message: string) => void;
}

/** Options every call accepts. `label` names the image in messages, e.g. the directive as written. */
export interface CallOptions {
  signal?: AbortSignal;
  label?: string;
}

/** What `submit` accepts besides the generation. */
export interface SubmitOptions extends CallOptions {
  callBackUrl?: string;
  /**
   * Hands every 429 answer to the caller (its concurrency control) instead of the client's own bounded retries:
   * called with the `Retry-After` in ms (undefined when absent or over 60 s); resolve true once the submit may be
   * sent again, false to give up with the 429. A 429 means MaxAPI created no task, so sending again pays nothing
   * twice.
   */
  onThrottled?: (retryAfterMs: number | undefined) => Promise<boolean>;
}

export interface MaxApiClient {
  /** `POST /api/v1/task/submit`: the paid step. Never retried once the request may have reached MaxAPI. */
  submit(generation: Generation, opts?: SubmitOptions): Promise<{ taskId: string }>;
  /** `GET /api/v1/task/{taskId}`, retried on network errors, 408, 429 and 5xx. */
  getTask(taskId: string, opts?: CallOptions): Promise<TaskInfo>;
  /** Polls until SUCCESS (resolves) or a terminal failure, the deadline (GROK_TIMEOUT) or an abort (rejects). */
  waitForTask(taskId: string, opts: WaitOptions): Promise<TaskInfo>;
  /** Downloads and verifies one result URL; no credentials are sent. */
  download(url: string, opts?: CallOptions & { maxBytes?: number; taskId?: string }): Promise<Buffer>;
  /** `POST /api/v1/task/{taskId}/cancel`. MaxAPI cancels only queued tasks; a refusal rejects with GROK_HTTP_ERROR. */
  cancel(taskId: string, opts?: CallOptions): Promise<void>;
  /** Closes the client's own Agent (a caller-supplied dispatcher is left open). */
  close(): Promise<void>;
}

const DEFAULTS = {
  retries: 2,
  safeRetries: 4,
  minRetryDelayMs: 1000,
  maxRetryDelayMs: 30_000,
  maxDownloadBytes: 50 * 1024 * 1024,
  connectMs: 10_000,
  headersMs: 30_000,
  bodyMs: 30_000,
  connections: 8,
  maxRedirections: 3,
};

export function createMaxApiClient(options: MaxApiClientOptions): MaxApiClient {
  const { apiKey } = options;
  if (typeof apiKey !== "string" || apiKey.length === 0) {
    throw new GrokImageError("GROK_NO_API_KEY", "The MaxAPI client needs an API key.", {
      hint: "Set MAXAPI_KEY (or the `apiKey` option).",
    });
  }
  const problem = apiKeyProblem(apiKey);
  if (problem !== undefined) {
    throw new GrokImageError(
      "GROK_BAD_OPTION",
      `The MaxAPI key is malformed: ${problem}. The key is not shown, and nothing was sent to MaxAPI.`,
      { hint: "Copy the key again as one line with nothing around it (no quotes, spaces or line breaks)." },
    );
  }
  let baseUrl: URL;
  try {
    baseUrl = new URL(options.baseUrl.endsWith("/") ? options.baseUrl : `${options.baseUrl}/`);
  } catch {
    throw new GrokImageError("GROK_BAD_OPTION", "`baseUrl` is not a valid URL.", {
      hint: "Use an origin such as https://api.maxapi.io.",
    });
  }
  warnIfUnencrypted(baseUrl, options.onWarning);
  const timeouts = options.timeouts ?? {};
  const ownAgent = options.dispatcher
    ? undefined
    : new Agent({
        connections: DEFAULTS.connections,
        connect: { timeout: timeouts.connectMs ?? DEFAULTS.connectMs },
        headersTimeout: timeouts.headersMs ?? DEFAULTS.headersMs,
        bodyTimeout: timeouts.bodyMs ?? DEFAULTS.bodyMs,
      });
  const dispatcher = options.dispatcher ?? (ownAgent as Agent);
  const retries = options.retries ?? DEFAULTS.retries;
  const safeRetries = Math.max(retries, DEFAULTS.safeRetries);
  const api: ApiContext = {
    dispatcher,
    baseUrl,
    apiKey,
    userAgent: options.userAgent ?? defaultUserAgent(),
    headersTimeoutMs: timeouts.headersMs ?? DEFAULTS.headersMs,
    bodyTimeoutMs: timeouts.bodyMs ?? DEFAULTS.bodyMs,
    minRetryDelayMs: options.minRetryDelayMs ?? DEFAULTS.minRetryDelayMs,
    maxRetryDelayMs: options.maxRetryDelayMs ?? DEFAULTS.maxRetryDelayMs,
    onRetry: options.onRetry,
  };
  // Downloads get their own redirect-following view of the transport; API calls follow no redirect, so the
  // Bearer header can never be replayed to another host.
  const downloads = {
    ...api,
    dispatcher: dispatcher.compose(
      interceptors.redirect({ maxRedirections: DEFAULTS.maxRedirections, throwOnMaxRedirect: true }),
    ),
    retries: safeRetries,
  };
  const maxDownloadBytes = options.maxDownloadBytes ?? DEFAULTS.maxDownloadBytes;
  const schedule = { ...DEFAULT_POLL, ...options.poll };
  // One group per client: the client serves one build's batch, whose tasks are alike enough to learn from.
  const polls = new PollGroup();
  const taskPath = (taskId: string) => `/api/v1/task/${encodeURIComponent(taskId)}`;

  const getTask = async (taskId: string, opts: CallOptions = {}): Promise<TaskInfo> => {
    const data = await callApi(api, {
      phase: "query",
      method: "GET",
      path: taskPath(taskId),
      retries: safeRetries,
      signal: opts.signal,
      label: opts.label,
      taskId,
    });
    return parseTaskInfo(data, taskId);
  };

  return {
    async submit(generation, opts = {}) {
      const input: Record<string, unknown> = { prompt: generation.prompt, n: generation.n };
      if (generation.ratio !== null) input.ratio = generation.ratio;
      if (generation.resolution !== null) input.resolution = generation.resolution;
      const label = opts.label ?? JSON.stringify(generation.prompt);
      const data = await callApi(api, {
        phase: "submit",
        method: "POST",
        path: "/api/v1/task/submit",
        body: {
          model: generation.model,
          input,
          ...(opts.callBackUrl ? { callBackUrl: opts.callBackUrl } : {}),
        },
        retries,
        signal: opts.signal,
        label,
        onThrottled: opts.onThrottled,
      });
      const taskId = (data as { taskId?: unknown } | null)?.taskId;
      if (typeof taskId !== "string" || taskId.length === 0) {
        throw new GrokImageError(
          "GROK_HTTP_ERROR",
          `MaxAPI accepted the submit for ${label} but returned no task id.`,
          {
            hint: "A task may have been created and charged. Check the MaxAPI dashboard before running the build again.",
          },
        );
      }
      polls.submitted(taskId, generation.model);
      return { taskId };
    },
    getTask,
    waitForTask(taskId, opts) {
      return pollTask(
        taskId,
        (signal) => getTask(taskId, { signal, ...(opts.label ? { label: opts.label } : {}) }),
        schedule,
        polls,
        opts,
      );
    },
    download(url, opts = {}) {
      return downloadImage(downloads, url, {
        signal: opts.signal,
        maxBytes: opts.maxBytes ?? maxDownloadBytes,
        label: opts.label,
        taskId: opts.taskId,
      });
    },
    async cancel(taskId, opts = {}) {
      await callApi(api, {
        phase: "cancel",
        method: "POST",
        path: `${taskPath(taskId)}/cancel`,
        retries: safeRetries,
        signal: opts.signal,
        label: opts.label,
        taskId,
      });
    },
    async close() {
      await ownAgent?.close();
    },
  };
}

/** Origins already warned about: one warning per origin for the whole process (builds create several clients). */
const warnedOrigins = new Set<string>();

/** Hosts that never leave this machine, where `http://` is fine (the emulator runs there). */
function isLoopback(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  return (
    host === "localhost" ||
    host.endsWith(".localhost") ||
    host === "[::1]" ||
    /^127(?:\.\d{1,3}){3}$/.test(host)
  );
}

function warnIfUnencrypted(baseUrl: URL, onWarning: ((message: string) => void) | undefined): void {
  if (baseUrl.protocol !== "http:" || isLoopback(baseUrl.hostname) || warnedOrigins.has(baseUrl.origin))
    return;
  warnedOrigins.add(baseUrl.origin);
  const message =
    `baseUrl ${baseUrl.origin} is plain http: the MaxAPI key travels unencrypted to ${baseUrl.hostname} with ` +
    "every request, where anyone on the network path can read it. Use an https:// origin (http:// is meant for " +
    "maxapi-emulator on localhost).";
  if (onWarning) onWarning(message);
  else process.emitWarning(message, { code: "GROK_INSECURE_BASE_URL" });
}

let userAgent: string | undefined;

/** `grok-image/<version>`, read once from this package's manifest (two levels up from `src/api` and `dist/api`). */
function defaultUserAgent(): string {
  if (userAgent === undefined) {
    let version = "0.0.0";
    try {
      const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
        version?: unknown;
      };
      if (typeof manifest.version === "string") version = manifest.version;
    } catch {
      // A bundled copy may have no manifest beside it; the version is only informative.
    }
    userAgent = `grok-image/${version}`;
  }
  return userAgent;
}
