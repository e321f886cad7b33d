import type { MaxApiClient } from "../api/maxapi-client.js";
import { sha256Hex } from "../cache/hash-file.js";
import type { ImageCache } from "../cache/image-cache.js";
import { GrokImageError } from "../errors.js";
import type { ManifestEntry, OriginalRecord } from "../types.js";
import type { EngineEvent } from "./engine-types.js";

export interface RepairContext {
  readonly cache: ImageCache;
  /** Without a client (frozen mode, no key) only copies on disk are tried: no request is made. */
  readonly client?: MaxApiClient | undefined;
  readonly emit: (event: EngineEvent) => void;
  readonly signal: AbortSignal | undefined;
  /** Bounds the query and downloads of the task's results. */
  readonly timeoutMs: number;
}

/**
 * Puts back the damaged or missing originals of a committed entry without paying for a new task: from an intact
 * copy elsewhere in the cache directory (same sha256), then from the entry's own task, whose result URLs stay
 * downloadable for 7 days at no cost. Only bytes that match the recorded sha256 are written. Resolves true when
 * every original of the entry is intact again; each repair is logged as a warning.
 */
export async function repairEntry(entry: ManifestEntry, ctx: RepairContext): Promise<boolean> {
  const { cache } = ctx;
  const damaged: OriginalRecord[] = [];
  for (const record of entry.originals) {
    if ((await cache.originalProblem(record)) !== undefined) damaged.push(record);
  }
  const left: OriginalRecord[] = [];
  for (const record of damaged) {
    const copy = await cache.restoreOriginalCopy(record);
    if (copy === undefined) left.push(record);
    else warn(ctx, `Restored ${cache.originalPath(record)} from an intact copy at ${copy} (no API cost).`);
  }
  if (left.length === 0) return true;
  if (!ctx.client || !entry.taskId) return false;
  const restored = await fromTask(entry, left, ctx.client, ctx);
  if (restored.length > 0) {
    const files = restored.map((record) => cache.originalPath(record)).join(", ");
    warn(ctx, `Restored ${files} from the result URLs of task ${entry.taskId} (no new task, no API cost).`);
  }
  return restored.length === left.length;
}

/** The originals among `wanted` that the task's result URLs gave back intact. */
async function fromTask(
  entry: ManifestEntry,
  wanted: readonly OriginalRecord[],
  client: MaxApiClient,
  ctx: RepairContext,
): Promise<OriginalRecord[]> {
  const timeLeft = AbortSignal.timeout(ctx.timeoutMs);
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, timeLeft]) : timeLeft;
  const bySha = new Map(wanted.map((record) => [record.sha256, record]));
  const restored: OriginalRecord[] = [];
  try {
    const info = await client.getTask(entry.taskId, { signal });
    for (const url of info.status === "SUCCESS" ? (info.result?.urls ?? []) : []) {
      if (restored.length === wanted.length) break;
      const bytes = await client.download(url, { signal, taskId: entry.taskId }).catch(() => undefined);
      const record = bytes && bySha.get(sha256Hex(bytes));
      if (bytes && record && (await ctx.cache.repairOriginal(record, bytes))) {
        restored.push(record);
        bySha.delete(record.sha256);
      }
    }
  } catch {
    // Unknown task, expired URLs, network trouble: the caller decides whether a new task is paid for.
  }
  if (ctx.signal?.aborted) {
    throw new GrokImageError(
      "GROK_ABORTED",
      `Repairing the cached originals of "${entry.prompt}" was aborted.`,
      {
        taskId: entry.taskId,
        hint: "Run the build again: the repair is retried, at no cost.",
      },
    );
  }
  return restored;
}

function warn(ctx: RepairContext, message: string): void {
  ctx.emit({ type: "warn", message });
}
