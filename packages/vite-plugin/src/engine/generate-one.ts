import { isAbsolute, relative } from "node:path";
import type { MaxApiClient, TaskInfo } from "../api/maxapi-client.js";
import type { ImageCache } from "../cache/image-cache.js";
import { describeLockWait } from "../cache/key-lock.js";
import { GrokImageError } from "../errors.js";
import { type SharedCacheHandle, withSharedCache } from "../storage/engine-hooks.js";
import type { Generation, ManifestEntry, OriginalRecord, ResolvedOptions } from "../types.js";
import type { EngineEvent } from "./engine-types.js";
import { repairEntry } from "./repair-entry.js";
import { holdSlot, type SlotHold, type TaskSlots } from "./task-slots.js";

export interface GenerateContext {
  readonly cache: ImageCache;
  readonly client: MaxApiClient;
  readonly options: ResolvedOptions;
  readonly emit: (event: EngineEvent) => void;
  readonly signal: AbortSignal | undefined;
  /** Commits an extra paid submit against the build's budget, or throws GROK_BUDGET_EXCEEDED before it is sent. */
  readonly reserve: (generation: Generation, why: string) => void;
  /** The engine's task slots (the `concurrency` option): held from a submit until its task is terminal. */
  readonly slots?: TaskSlots | undefined;
  /**
   * The shared cache (SPEC section 12), when one is configured: a miss is looked up there first, and generated
   * under its claim, so that the machines sharing it pay once.
   */
  readonly shared?: SharedCacheHandle | undefined;
  /**
   * Counts one submit MaxAPI accepted in the run's cost, whatever becomes of its task afterwards (failed, timed out,
   * not storable): whether a task that never delivered is billed is not documented, so a summary never says less.
   */
  readonly charge: (generation: Generation) => void;
  /** How long downloading a task's results may take before the log says so. @default 5000 */
  readonly slowDownloadMs?: number;
}

export interface GenerateOptions {
  /**
   * Why a committed key is generated again (its original is damaged): the new submit is reserved against the budget
   * first, since no plan counted it. Undefined for a miss, which the plan already budgeted.
   */
  readonly regenerate?: string;
}

export interface GenerateOutcome {
  /** Whether the finished task was submitted (and so paid) by this run, not by another process or an earlier run. */
  readonly paidHere: boolean;
  readonly entry: ManifestEntry;
}

/** A FAILURE with `failure_reason: null` may be submitted once more (SPEC section 4); never more. */
const MAX_SUBMITS = 2;
/**
 * Downloads usually take well under a second, so they get no line of their own (one line per state a user cares
 * about: submitted, done); one still running after this long does, so a stalled CDN is not mistaken for the API.
 */
const SLOW_DOWNLOAD_MS = 5000;

/**
 * Generate one generation key: submit (or resume an earlier run's task), journal the task id before polling,
 * poll, download every result into `originals/` as soon as it arrives, then commit the manifest entry.
 * Runs under the cache's per-key lock so two processes sharing the cache pay once. A committed key whose
 * originals are damaged is repaired for free when an intact copy exists (on disk, or at the task's result URLs);
 * only then is a new task paid for.
 */
export async function generateOne(
  key: string,
  generation: Generation,
  ctx: GenerateContext,
  opts: GenerateOptions = {},
): Promise<GenerateOutcome> {
  const { cache } = ctx;
  return cache.withKeyLock(
    key,
    async () => {
      // withKeyLock has just refreshed the manifest (a stat unless it changed): a key another process finished
      // (or repaired) while we waited for the lock is found here and costs nothing.
      const existing = cache.lookup(key);
      if (existing) {
        if ((await cache.checkEntry(key)).ok) return { paidHere: false, entry: existing };
        const repaired = await repairEntry(existing, {
          cache,
          client: ctx.client,
          emit: ctx.emit,
          signal: ctx.signal,
          timeoutMs: ctx.options.timeoutMs,
        });
        if (repaired) return { paidHere: false, entry: existing };
      }
      // Another machine may have it, or be generating it: the shared cache is asked before anything is paid.
      return withSharedCache(key, generation, ctx, (local) =>
        submitPollDownload(key, generation, local, opts.regenerate),
      );
    },
    {
      signal: ctx.signal,
      onLongWait: (wait) => ctx.emit({ type: "warn", message: describeLockWait(wait) }),
    },
  );
}

async function submitPollDownload(
  key: string,
  generation: Generation,
  ctx: GenerateContext,
  regenerate: string | undefined,
): Promise<GenerateOutcome> {
  const { cache, emit } = ctx;
  const report: Report = (state, taskId, detail) =>
    emit({
      type: "task",
      key,
      prompt: generation.prompt,
      model: generation.model,
      state,
      ...(taskId ? { taskId } : {}),
      ...(detail ? { detail } : {}),
    });

  const pending = await cache.readPending(key);
  // A task an earlier run paid for and could not use: the same error again, with no request and no new task.
  if (pending?.outcome) {
    const { code, message, hint } = pending.outcome;
    throw new GrokImageError(code, message, { taskId: pending.taskId, hint });
  }
  let attempt = pending?.attempt ?? 0;
  let resumed = pending !== undefined;
  let taskId: string;
  let submittedAt = pending?.submittedAt ?? "";
  // The time a "done" line reports: from this run's submit (or resume) of the task that succeeded.
  let since = Date.now();
  // A slot is held while the task runs at MaxAPI (a resumed one too): from its submit until it is terminal.
  const hold = holdSlot(ctx.slots, ctx.signal);
  if (pending) {
    taskId = pending.taskId;
    await hold.take();
    report("resumed", taskId, "submitted by an earlier run; not paying again");
  } else {
    if (regenerate !== undefined) ctx.reserve(generation, regenerate);
    await hold.take();
    ({ taskId, submittedAt } = await submit(key, generation, ctx, ++attempt, hold));
    report("submitted", taskId);
  }

  for (;;) {
    // `timeout` bounds one task from submit (or resume) to downloaded; a re-submit starts a new clock.
    const deadline = Date.now() + ctx.options.timeoutMs;
    try {
      const info = await ctx.client.waitForTask(taskId, {
        deadline,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
        onStatus: (status) => report(status.status, taskId),
      });
      // Terminal: the next task goes while this one's images download and are stored.
      hold.release();
      const originals = await downloadAll(info, taskId, deadline, generation, ctx, report);
      const entry: ManifestEntry = {
        model: generation.model,
        prompt: generation.prompt,
        n: generation.n,
        ratio: generation.ratio,
        resolution: generation.resolution,
        v: generation.v,
        taskId,
        createdAt: info.updatedAt ?? new Date().toISOString(),
        originals,
      };
      await cache.commit(key, entry);
      report("done", taskId, `${images(originals.length)} in ${seconds(Date.now() - since)}`);
      return { paidHere: !resumed, entry };
    } catch (error) {
      hold.release();
      const why = submitAgainBecause(error, resumed, attempt);
      // A timeout, an abort or a network failure leaves the task journaled: the next run resumes it for free.
      if (why === undefined) {
        if (isUnusable(error)) {
          throw await keepUnusable(key, { taskId, generation, submittedAt, attempt }, error, ctx);
        }
        if (isTerminal(error)) await cache.removePending(key);
        throw error;
      }
      await cache.removePending(key);
      ctx.reserve(generation, why);
      report("retrying", taskId, `${why}; submitting once more as a new paid task`);
      await hold.take();
      ({ taskId, submittedAt } = await submit(key, generation, ctx, ++attempt, hold));
      resumed = false;
      since = Date.now();
      report("submitted", taskId);
    }
  }
}

type Report = (state: string, taskId?: string, detail?: string) => void;

function images(count: number): string {
  return `${count} image${count === 1 ? "" : "s"}`;
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

const TERMINAL_CODES = new Set([
  "GROK_TASK_FAILED",
  "GROK_MODERATION",
  "GROK_INVALID_PARAMETERS",
  "GROK_INSUFFICIENT_POINTS",
]);

function isTerminal(error: unknown): boolean {
  return GrokImageError.isInstance(error) && TERMINAL_CODES.has(error.code);
}

/** Errors of a task that succeeded (so may be billed) but whose result no later run could use either. */
const UNUSABLE = new WeakSet<GrokImageError>();

/**
 * Whether resuming the task could never deliver: its result was refused (URLs already expired at the first
 * download, bytes that do not decode, an oversized body), it succeeded with no result, or MaxAPI no longer knows
 * it. Left journaled as it was, every later build would either fail on it again with nothing to act on, or (for an
 * expired URL or an unknown task) pay for a new task, build after build.
 */
function isUnusable(error: unknown): error is GrokImageError {
  if (!GrokImageError.isInstance(error)) return false;
  if (UNUSABLE.has(error) || error.code === "GROK_DOWNLOAD_REJECTED") return true;
  return error.code === "GROK_HTTP_ERROR" && error.status === 404;
}

/**
 * Records in the journal why the task cannot be used, so the next builds fail at once with the same error instead
 * of resuming or re-submitting it, and returns that error: it names the task and the one way out, deleting the
 * journal file (a deliberate new paid task).
 */
async function keepUnusable(
  key: string,
  task: { taskId: string; generation: Generation; submittedAt: string; attempt: number },
  error: GrokImageError,
  ctx: GenerateContext,
): Promise<GrokImageError> {
  const file = shownPath(ctx.options.root, ctx.cache.pendingPath(key));
  const { taskId, generation } = task;
  const message =
    `Task ${taskId} for "${generation.prompt}" was accepted (and may be billed), but its result cannot be used: ${error.message} ` +
    `The task stays recorded in ${file}, so no build pays for "${generation.prompt}" again on its own.`;
  const hint =
    `To pay for a new task instead, delete the record (\`rm ${file}\`) and build again. Quote task ${taskId} ` +
    "to MaxAPI support to ask about this one.";
  const outcome = { code: error.code, message, hint, failedAt: new Date().toISOString() };
  // Best effort: without the record the next build resumes the task, which fails again; it never pays for it.
  await ctx.cache
    .writePending(key, { ...task, submittedAt: task.submittedAt || outcome.failedAt, outcome })
    .catch(() => {});
  return new GrokImageError(error.code, message, { taskId, hint, cause: error });
}

/** A path as a person at the project root would type it. */
function shownPath(root: string, file: string): string {
  const rel = relative(root, file);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : file;
}

/**
 * When a new paid submit is the only way forward, and why (for the log); undefined when it is not. A FAILURE
 * without a reason may be submitted once more (SPEC section 4). A task journaled by an earlier run whose result
 * URLs expired (they live 7 days), or that MaxAPI no longer knows, can never be resumed: without this the
 * directive would stay stuck on it forever.
 */
function submitAgainBecause(error: unknown, resumed: boolean, attempt: number): string | undefined {
  if (!GrokImageError.isInstance(error)) return undefined;
  if (error.code === "GROK_TASK_FAILED" && error.isRetryable && attempt < MAX_SUBMITS) {
    return "the API gave no failure reason";
  }
  if (!resumed) return undefined;
  if (error.code === "GROK_DOWNLOAD_REJECTED" && [403, 404, 410].includes(error.status ?? 0)) {
    return "the journaled task's result URLs have expired";
  }
  if (error.code === "GROK_HTTP_ERROR" && error.status === 404)
    return "MaxAPI no longer knows the journaled task";
  return undefined;
}

async function downloadAll(
  info: TaskInfo,
  taskId: string,
  deadline: number,
  generation: Generation,
  ctx: GenerateContext,
  report: Report,
): Promise<OriginalRecord[]> {
  const urls = info.result?.urls ?? [];
  if (urls.length === 0) {
    const error = new GrokImageError(
      "GROK_TASK_FAILED",
      `Task ${taskId} for "${generation.prompt}" succeeded with no result URLs.`,
      { taskId, hint: "Report the task id to MaxAPI support; the build can be re-run once it is resolved." },
    );
    UNUSABLE.add(error);
    throw error;
  }
  const slowAfter = ctx.slowDownloadMs ?? SLOW_DOWNLOAD_MS;
  const slow = setTimeout(
    () => report("downloading", taskId, `${images(urls.length)}, still going after ${seconds(slowAfter)}`),
    slowAfter,
  );
  slow.unref();
  try {
    return await downloadEach(urls, taskId, deadline, generation, ctx);
  } finally {
    clearTimeout(slow);
  }
}

async function downloadEach(
  urls: readonly string[],
  taskId: string,
  deadline: number,
  generation: Generation,
  ctx: GenerateContext,
): Promise<OriginalRecord[]> {
  const timeLeft = AbortSignal.timeout(Math.max(1, deadline - Date.now()));
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, timeLeft]) : timeLeft;
  const originals: OriginalRecord[] = [];
  for (const url of urls) {
    let bytes: Buffer;
    try {
      bytes = await ctx.client.download(url, { signal, taskId });
    } catch (error) {
      if (!timeLeft.aborted || ctx.signal?.aborted) throw error;
      // The task stays journaled: its URLs live 7 days, so the next run downloads them without paying again.
      throw new GrokImageError(
        "GROK_TIMEOUT",
        `Downloading the results of task ${taskId} ("${generation.prompt}") did not finish within the ${ctx.options.timeoutMs / 1000} s timeout.`,
        {
          taskId,
          cause: error,
          hint: "Run the build again to resume the download at no cost, or raise the `timeout` option.",
        },
      );
    }
    // Stored before anything else touches it: a paid, downloaded image is never thrown away.
    originals.push(await ctx.cache.storeOriginal(bytes));
  }
  return originals;
}

async function submit(
  key: string,
  generation: Generation,
  ctx: GenerateContext,
  attempt: number,
  hold: SlotHold,
): Promise<{ taskId: string; submittedAt: string }> {
  const throttledSince = Date.now();
  try {
    const { taskId } = await ctx.client.submit(generation, {
      ...(ctx.options.callBackUrl ? { callBackUrl: ctx.options.callBackUrl } : {}),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      // A 429 created no task: the submit queues for its slot again (past the Retry-After) and is sent once more,
      // for as long as the task's timeout, instead of failing the directive.
      onThrottled: async (retryAfterMs) => {
        if (Date.now() - throttledSince > ctx.options.timeoutMs) return false;
        await hold.throttled(retryAfterMs);
        return true;
      },
    });
    hold.accepted();
    // Counted the moment MaxAPI accepts it, before anything else can fail.
    ctx.charge(generation);
    const submittedAt = new Date().toISOString();
    // Journal before the first poll: a killed build resumes this task instead of paying again.
    await ctx.cache.writePending(key, { taskId, generation, submittedAt, attempt });
    return { taskId, submittedAt };
  } catch (error) {
    hold.release();
    throw error;
  }
}
