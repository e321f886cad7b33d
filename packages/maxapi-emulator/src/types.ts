/** The Grok Imagine text-to-image models the emulator serves (MAXAPI.md §10.1). */
export type GrokModel =
  | "grok-imagine/text-to-image-lite"
  | "grok-imagine/text-to-image-standard"
  | "grok-imagine/text-to-image-pro";

/** Task states as documented (MAXAPI.md §5). */
export type TaskStatus =
  | "PENDING"
  | "PROCESSING"
  | "SUBMITTED"
  | "SUCCESS"
  | "FAILURE"
  | "TIMEOUT"
  | "CANCELLED";

/** The complete documented set of `failure_reason` strings (MAXAPI.md §6); `null` is the fourth value. */
export type FailureReason = "CONTENT_MODERATION" | "INVALID_PARAMETERS" | "INSUFFICIENT_POINTS";

/** The 13 moderation categories of the documented moderation 400 body (MAXAPI.md §3). */
export type ModerationCategory =
  | "harassment"
  | "harassment/threatening"
  | "sexual"
  | "hate"
  | "hate/threatening"
  | "illicit"
  | "illicit/violent"
  | "self-harm/intent"
  | "self-harm/instructions"
  | "self-harm"
  | "sexual/minors"
  | "violence"
  | "violence/graphic";

/** Where a fault rule applies. */
export type FaultPhase = "submit" | "query" | "download";

/** Answer with this HTTP status and an envelope `{code: status, msg}`; e.g. 429 with `retryAfter`, or 500/502/503. */
export interface HttpFault {
  type: "http";
  status: number;
  /** Value of the `Retry-After` header (seconds, or an HTTP date). Omitted when unset. */
  retryAfter?: number | string;
  /** Envelope `msg`. @default the status text, e.g. "service unavailable" */
  msg?: string;
}

/** Destroy the socket without writing any response. */
export interface DropFault {
  type: "drop";
}

/** Wait `ms` before handling the request normally. */
export interface DelayFault {
  type: "delay";
  ms: number;
}

/** Submit only: answer the documented moderation 400; no task is created and nothing is charged. */
export interface ModerationFault {
  type: "moderation";
  /** Categories flagged `true`; every other category is `false`. @default ["sexual"] */
  categories?: readonly ModerationCategory[];
}

/** Submit only: create (and later charge) the task, then destroy the socket before the response is written. */
export interface AcceptThenDropFault {
  type: "accept-then-drop";
}

/** Submit only: the task is accepted, walks its states, then ends in this terminal state instead of SUCCESS. */
export interface OutcomeFault {
  type: "outcome";
  status: "FAILURE" | "TIMEOUT" | "CANCELLED";
  /** Only meaningful with FAILURE. @default null */
  failureReason?: FailureReason | null;
}

/** Submit only: this task takes `ms` in total instead of the server's `latencyMs`. */
export interface LatencyFault {
  type: "latency";
  ms: number;
}

/** Download only: answer as for a URL past its lifetime (the server's `expiredStatus`). */
export interface ExpiredFault {
  type: "expired";
}

/** Download only: announce the full Content-Length, send part of the body, then close the socket. */
export interface TruncatedFault {
  type: "truncated";
  /** Fraction of the body sent before closing. @default 0.5 */
  fraction?: number;
}

/** Download only: a 200 `image/jpeg` whose bytes are not an image. */
export interface CorruptFault {
  type: "corrupt";
}

/** Download only: a 200 `image/jpeg` body of `bytes` bytes (a real JPEG followed by padding). */
export interface OversizedFault {
  type: "oversized";
  /** @default 67108864 (64 MiB) */
  bytes?: number;
  /** Send a Content-Length header; when false the body is chunked. @default true */
  declareLength?: boolean;
}

export type Fault =
  | HttpFault
  | DropFault
  | DelayFault
  | ModerationFault
  | AcceptThenDropFault
  | OutcomeFault
  | LatencyFault
  | ExpiredFault
  | TruncatedFault
  | CorruptFault
  | OversizedFault;

/** A fault to inject. Rules are tried in insertion order; the first matching rule with times left is used. */
export interface FaultRule {
  phase: FaultPhase;
  /** Restrict to tasks whose prompt contains this string, or matches this RegExp. @default every prompt */
  prompt?: string | RegExp;
  /** How many requests this rule affects before it is spent. @default Infinity */
  times?: number;
  fault: Fault;
}

/** Live counters; the object is mutated in place, so a test can hold on to it. */
export interface Counters {
  /** Every POST /api/v1/task/submit received. */
  submits: number;
  /** Submits per `input.prompt` (only bodies that parsed and carried a string prompt). */
  submitsByPrompt: Record<string, number>;
  tasksCreated: number;
  /** Submits answered with the moderation 400. */
  moderated: number;
  /** Every GET /api/v1/task/:taskId received. */
  queries: number;
  queriesByTask: Record<string, number>;
  /** Every POST /api/v1/task/:taskId/cancel received. */
  cancels: number;
  /** Cancel requests that did cancel a task. */
  cancelled: number;
  /** Every GET of an image path on the CDN origin. */
  downloads: number;
  /** CDN requests that carried an Authorization header (should stay 0: the key never goes to a download host). */
  cdnAuthorizationHeaders: number;
  /** USD charged: per-image price x n, on SUCCESS only. */
  costUsd: number;
  /** Webhook deliveries attempted. */
  webhooksSent: number;
  /** Webhook deliveries that failed (network error, timeout or non-2xx). */
  webhooksFailed: number;
  /** Webhooks not sent because the callBackUrl is private and the policy is "skip". */
  webhooksSkipped: number;
  /** Submits answered 429 because `maxTasksInFlight` tasks were already running (no task created, nothing charged). */
  throttled: number;
  /** The most tasks that were running (submitted, not yet terminal) at one time. */
  peakTasksInFlight: number;
}

/** Options for `startEmulator`. Every field is optional. */
export interface EmulatorOptions {
  /** API port; 0 picks a free one. @default 0 */
  port?: number;
  /** CDN port; 0 picks a free one. @default 0 */
  cdnPort?: number;
  /** Interface both servers listen on. @default "127.0.0.1" */
  host?: string;
  /** Accepted Bearer tokens. When unset, any non-empty Bearer token is accepted. */
  apiKeys?: readonly string[];
  /** Total time from submit to the terminal state, split evenly over PENDING, PROCESSING and SUBMITTED. @default 300 */
  latencyMs?: number;
  /** Lifetime of result URLs, counted from generation. @default 604800000 (7 days) */
  urlTtlMs?: number;
  /** HTTP status for an expired URL. @default 410 */
  expiredStatus?: 410 | 403;
  /** Multiplies every image dimension; 0.25 makes tests and benchmarks fast. @default 1 */
  imageScale?: number;
  /** Mixed into image colours; same prompt + index + seed gives the same bytes. @default "maxapi-emulator" */
  seed?: string | number;
  /**
   * A bad per-model parameter (n out of range, ratio/resolution on lite, unknown ratio) is either a synchronous
   * HTTP 400 ("reject") or an accepted task that ends FAILURE + INVALID_PARAMETERS ("fail"). The docs do not say.
   * @default "reject"
   */
  invalidParameters?: "reject" | "fail";
  /** Which tasks can be cancelled: "pending" (docs version B) or "non-terminal" (version A). @default "pending" */
  cancellable?: "pending" | "non-terminal";
  /** Deliver webhooks to localhost and private addresses (for local tests). @default false */
  allowPrivateCallbacks?: boolean;
  /** What a private callBackUrl does when not allowed: a 400 at submit, or accept and skip the webhook. @default "reject" */
  privateCallbacks?: "reject" | "skip";
  /** Webhook delivery timeout. @default 5000 */
  webhookTimeoutMs?: number;
  /**
   * Tasks that may run at once (submitted and not yet terminal). A submit above it is answered HTTP 429
   * `{"code":429,"msg":"too many tasks in flight"}` with a `Retry-After` header, and creates no task. MaxAPI documents
   * no such limit (MAXAPI.md §12): this lets a client's concurrency control be tested against one. @default Infinity
   */
  maxTasksInFlight?: number;
  /** `Retry-After` (seconds) of the 429 answered above `maxTasksInFlight`. @default 1 */
  inFlightRetryAfter?: number;
  /** Fault rules installed at start, and again by `reset()`. */
  faults?: readonly FaultRule[];
  /** Clock in epoch ms for timestamps and URL expiry; tests pass a movable one. @default Date.now */
  now?: () => number;
}

/** Options that can be changed on a running emulator with `configure()`. */
export type RuntimeOptions = Required<
  Pick<
    EmulatorOptions,
    | "latencyMs"
    | "urlTtlMs"
    | "expiredStatus"
    | "imageScale"
    | "invalidParameters"
    | "cancellable"
    | "allowPrivateCallbacks"
    | "privateCallbacks"
    | "webhookTimeoutMs"
    | "maxTasksInFlight"
    | "inFlightRetryAfter"
  >
> & { apiKeys: readonly string[] | undefined; seed: string };

/** The `data` object of GET /api/v1/task/:taskId, exactly as served. */
export interface TaskData {
  taskId: string;
  status: TaskStatus;
  input: Record<string, unknown> & { model: string };
  result: { type: "image"; urls: string[] } | null;
  failure_reason: FailureReason | null;
  created_at: string;
  updated_at: string;
}

/** A running emulator. */
export interface Emulator {
  /** API base URL, e.g. "http://127.0.0.1:41234" (no trailing slash). */
  readonly url: string;
  /** CDN base URL (a separate origin). */
  readonly cdnUrl: string;
  readonly counters: Counters;
  /** Adds a fault rule; returns a function that removes it. */
  inject(rule: FaultRule): () => void;
  /** Removes every fault rule. */
  clearFaults(): void;
  /** Zeroes the counters, forgets all tasks and restores the fault rules given in the options. */
  reset(): void;
  /** Changes options on the fly (affects tasks submitted afterwards). */
  configure(patch: Partial<Omit<EmulatorOptions, "port" | "cdnPort" | "host" | "faults" | "now">>): void;
  /** The task as GET would serve it, without counting a query. */
  getTask(taskId: string): TaskData | undefined;
  /** Stops both servers, drops open connections and clears every timer. */
  close(): Promise<void>;
}
