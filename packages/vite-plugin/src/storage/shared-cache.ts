import { setTimeout as sleep } from "node:timers/promises";
import { hashFile, sha256Hex } from "../cache/hash-file.js";
import type { ImageCache } from "../cache/image-cache.js";
import { writeFileAtomic } from "../cache/write-file-atomic.js";
import type { EngineEvent } from "../engine/engine-types.js";
import { GrokImageError } from "../errors.js";
import { runPool } from "../shared/limiter.js";
import type { Generation, ManifestEntry, OriginalRecord, ResolvedOptions } from "../types.js";
import { Claims, type ClaimTask, type HeldClaim } from "./claim.js";
import type { ObjectStore } from "./object-store.js";
import { openStore } from "./open-store.js";
import {
  ENTRIES,
  entryName,
  keyOfEntryName,
  originalName,
  parseEntry,
  serializeEntry,
} from "./remote-layout.js";
import type { S3StoreOptions } from "./s3-store.js";

/*
 * The shared cache (SPEC section 12): one store behind every machine's local `.grok-images/`.
 *
 * - Read-through: a local miss is looked up in the store before anything is paid; its originals are checked
 *   against their sha256 on the way in and written into the local cache atomically, then the entry is committed.
 * - Write-through: a generation's originals, then its entry (the commit marker), are uploaded as soon as the local
 *   commit is done, create-only: objects are content-addressed and never overwritten.
 * - Pay once: a miss is generated under a claim (claim.ts); the other machines wait for its entry.
 */

/** Timings of the shared cache; tests shorten them. */
export interface SharedCacheTuning {
  /** @default 5_000 */
  readonly heartbeatMs?: number | undefined;
  /** @default 30_000 */
  readonly staleMs?: number | undefined;
  /** First wait between two looks at another machine's claim, growing ×1.5. @default 1_000 */
  readonly pollMs?: number | undefined;
  /** @default 5_000 */
  readonly maxPollMs?: number | undefined;
  /** Transport of the S3 store (dispatcher, retries, timeouts). */
  readonly store?: S3StoreOptions | undefined;
}

/** The engine events the shared cache reports (a subset of the engine's own). */
export type SharedEvent = Extract<EngineEvent, { type: "task" | "warn" }>;

/** What a generation ends with: the same shape as the engine's outcome. */
export interface SharedOutcome {
  readonly paidHere: boolean;
  readonly entry: ManifestEntry;
}

/** What a generation hands the shared cache: the local cache (journal included) and its abort signal. */
export interface SharedGenerateContext {
  readonly cache: ImageCache;
  readonly signal: AbortSignal | undefined;
}

/** Misses looked up in one go at most this many at a time. */
const LOOKUP_CONCURRENCY = 8;
/** From this many misses on, one listing of `entries/` (1 request per 1,000 keys) replaces a GET per miss. */
const LIST_FROM = 32;
/** A key found absent is not looked up again by read-through for this long (a claim still checks it first). */
const ABSENT_FOR_MS = 30_000;

export type Imported =
  | { readonly kind: "entry"; readonly entry: ManifestEntry }
  | { readonly kind: "absent" }
  /** The store's entry, or one of its originals, is damaged: it is not used, and may be replaced. */
  | { readonly kind: "damaged"; readonly etag: string };

export class SharedCache {
  readonly store: ObjectStore;
  readonly #claims: Claims;
  readonly #emit: (event: SharedEvent) => void;
  readonly #options: ResolvedOptions;
  readonly #pollMs: number;
  readonly #maxPollMs: number;
  readonly #staleMs: number;
  readonly #absent = new Map<string, number>();
  /** Entry versions found damaged: reported once, never used. */
  readonly #damaged = new Map<string, string>();
  /** Whether the store honours create-only writes, checked once before the first claim. */
  #conditionalWrites: Promise<void> | undefined;

  constructor(
    store: ObjectStore,
    options: ResolvedOptions,
    emit: (event: SharedEvent) => void,
    tuning: SharedCacheTuning = {},
  ) {
    this.store = store;
    this.#options = options;
    this.#emit = emit;
    this.#staleMs = tuning.staleMs ?? 30_000;
    this.#pollMs = tuning.pollMs ?? 1_000;
    this.#maxPollMs = tuning.maxPollMs ?? 5_000;
    this.#claims = new Claims(
      store,
      { heartbeatMs: tuning.heartbeatMs ?? 5_000, staleMs: this.#staleMs },
      (message) => emit({ type: "warn", message }),
    );
  }

  /** The shared cache of `options.remoteCache` (which must be set). */
  static async open(
    options: ResolvedOptions,
    emit: (event: SharedEvent) => void,
    tuning: SharedCacheTuning = {},
  ): Promise<SharedCache> {
    const remote = options.remoteCache;
    if (!remote) throw new TypeError("No remoteCache is configured.");
    return new SharedCache(await openStore(remote, tuning.store), options, emit, tuning);
  }

  #warn(message: string): void {
    this.#emit({ type: "warn", message });
  }

  #task(
    key: string,
    entry: { prompt: string; model: string },
    state: string,
    detail?: string,
    taskId?: string,
  ): void {
    this.#emit({
      type: "task",
      key,
      prompt: entry.prompt,
      model: entry.model,
      state,
      ...(taskId ? { taskId } : {}),
      ...(detail ? { detail } : {}),
    });
  }

  /**
   * Read-through for a batch: the local misses among `keys` that the store holds are brought into the local cache
   * (entry and originals, verified). Resolves with the keys brought in. Throws GROK_REMOTE_CACHE_* when the store
   * cannot be read: a build that cannot tell whether another machine paid must not pay.
   */
  async readThrough(cache: ImageCache, keys: readonly string[], signal?: AbortSignal): Promise<string[]> {
    const now = Date.now();
    let wanted = keys.filter(
      (key) => cache.lookup(key) === undefined && !((this.#absent.get(key) ?? 0) > now),
    );
    if (wanted.length === 0) return [];
    if (wanted.length >= LIST_FROM) {
      const present = await this.#listed(wanted, signal);
      for (const key of wanted) if (!present.has(key)) this.#absent.set(key, now + ABSENT_FOR_MS);
      wanted = wanted.filter((key) => present.has(key));
    }
    const brought: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < wanted.length) {
        const key = wanted[next++] as string;
        const imported = await this.importEntry(cache, key, signal);
        if (imported.kind === "entry") brought.push(key);
        else if (imported.kind === "absent") this.#absent.set(key, Date.now() + ABSENT_FOR_MS);
      }
    };
    await Promise.all(Array.from({ length: Math.min(LOOKUP_CONCURRENCY, wanted.length) }, worker));
    return brought.sort();
  }

  /**
   * Which of `keys` the store has an entry for, bringing nothing in (`grok-image scan`: a build fetches these, and
   * pays for none of them). Throws GROK_REMOTE_CACHE_* when the store cannot be read.
   */
  async holds(keys: readonly string[], signal?: AbortSignal): Promise<Set<string>> {
    if (keys.length >= LIST_FROM) return this.#listed(keys, signal);
    const held = new Set<string>();
    await runPool(keys, LOOKUP_CONCURRENCY, async (key) => {
      if (await this.store.get(entryName(key), { signal })) held.add(key);
    });
    return held;
  }

  /** Which of `keys` have an entry, by one listing of the entries: cheaper than a request per key for many. */
  async #listed(keys: readonly string[], signal: AbortSignal | undefined): Promise<Set<string>> {
    const wanted = new Set(keys);
    const present = new Set<string>();
    for await (const object of this.store.list(ENTRIES, { signal })) {
      const key = keyOfEntryName(object.name);
      if (key && wanted.has(key)) present.add(key);
    }
    return present;
  }

  /**
   * Brings one key's entry and originals from the store into the local cache (each original verified first), and
   * commits the entry locally. A damaged entry or original is reported once and not used.
   */
  async importEntry(cache: ImageCache, key: string, signal?: AbortSignal): Promise<Imported> {
    const found = await this.store.get(entryName(key), { signal });
    if (!found) return { kind: "absent" };
    if (found.etag === this.#damaged.get(key)) return { kind: "damaged", etag: found.etag };
    const parsed = parseEntry(key, found.body);
    if ("problem" in parsed) {
      this.#warn(
        `The shared cache's ${this.store.url}/${entryName(key)} is damaged (${parsed.problem}): it is not used.`,
      );
      this.#damaged.set(key, found.etag);
      return { kind: "damaged", etag: found.etag };
    }
    if (!(await this.#fetchOriginals(cache, parsed.entry, signal))) {
      this.#damaged.set(key, found.etag);
      return { kind: "damaged", etag: found.etag };
    }
    await cache.commit(key, parsed.entry);
    this.#task(key, parsed.entry, "fetched", `from the shared cache ${this.store.url}`, parsed.entry.taskId);
    return { kind: "entry", entry: parsed.entry };
  }

  /**
   * Writes every original of `entry` that is missing or damaged locally from the store, each checked against its
   * size and sha256 first. Resolves whether all of them are intact locally now; a missing or damaged object in the
   * store is reported and never written.
   */
  async #fetchOriginals(
    cache: ImageCache,
    entry: ManifestEntry,
    signal: AbortSignal | undefined,
  ): Promise<boolean> {
    for (const record of entry.originals) {
      const local = await hashFile(cache.originalPath(record));
      if (local?.sha256 === record.sha256 && local.bytes === record.bytes) continue;
      const name = originalName(record);
      const found = await this.store.get(name, { signal });
      const problem = !found
        ? "is missing"
        : found.body.length !== record.bytes
          ? `has ${found.body.length} bytes instead of ${record.bytes}`
          : sha256Hex(found.body) !== record.sha256
            ? "does not match its sha256"
            : undefined;
      if (problem || !found) {
        this.#warn(
          `The shared cache's ${this.store.url}/${name} (for "${entry.prompt}") ${problem}: it is not used.`,
        );
        return false;
      }
      // Atomic: a reader of the local cache sees no file or the whole, verified file.
      await writeFileAtomic(cache.originalPath(record), found.body);
    }
    return true;
  }

  /**
   * Puts back the originals of a local entry from the store (a cache whose manifest is in git while its images live
   * in the store, or a damaged local file). Resolves whether they are all intact now.
   */
  async restoreOriginals(
    cache: ImageCache,
    key: string,
    entry: ManifestEntry,
    signal?: AbortSignal,
  ): Promise<boolean> {
    const ok = await this.#fetchOriginals(cache, entry, signal);
    if (ok) this.#task(key, entry, "fetched", `its originals, from the shared cache ${this.store.url}`);
    return ok;
  }

  /**
   * Generates `key` at most once across every machine sharing the store: brings the entry in when another
   * machine has it (or gets it while this one waits), otherwise runs `local` (submit, poll, download, commit)
   * under the key's claim, and uploads the result.
   */
  async generate<C extends SharedGenerateContext>(
    key: string,
    generation: Generation,
    ctx: C,
    local: (ctx: C) => Promise<SharedOutcome>,
  ): Promise<SharedOutcome> {
    const { cache, signal } = ctx;
    const existing = cache.lookup(key);
    if (existing && (await this.#fetchOriginals(cache, existing, signal))) {
      this.#task(key, existing, "fetched", `its originals, from the shared cache ${this.store.url}`);
      return { paidHere: false, entry: existing };
    }
    let damagedEtag: string | undefined;
    let waitMs = this.#pollMs;
    let waitingSince: number | undefined;
    for (;;) {
      throwIfAborted(signal, generation);
      const imported = await this.importEntry(cache, key, signal);
      if (imported.kind === "entry") return { paidHere: false, entry: imported.entry };
      if (imported.kind === "damaged") damagedEtag = imported.etag;
      const pending = await cache.readPending(key);
      const ownTask: ClaimTask | undefined = pending && {
        taskId: pending.taskId,
        submittedAt: pending.submittedAt,
        attempt: pending.attempt,
      };
      this.#conditionalWrites ??= this.#checkConditionalWrites();
      await this.#conditionalWrites;
      const attempt = await this.#claims.attempt(key, generation, ownTask, signal);
      if (attempt.kind === "held") {
        if (attempt.takenOverFrom) {
          const who = `${attempt.takenOverFrom.host} (pid ${attempt.takenOverFrom.pid})`;
          const task = attempt.claim.task;
          this.#task(
            key,
            generation,
            "taking over",
            task
              ? `${who} stopped working on it; resuming its task, not paying again`
              : `${who} stopped working on it before it submitted anything`,
            task?.taskId,
          );
        }
        return this.#generateHeld(key, generation, ctx, attempt.claim, local, damagedEtag);
      }
      if (attempt.kind === "raced") continue;
      if (waitingSince === undefined) {
        waitingSince = Date.now();
        this.#task(
          key,
          generation,
          "waiting",
          `${attempt.owner.host} (pid ${attempt.owner.pid}) is generating it; not paying twice`,
          attempt.task?.taskId,
        );
      } else if (Date.now() - waitingSince > this.#options.timeoutMs + this.#staleMs) {
        throw new GrokImageError(
          "GROK_TIMEOUT",
          `Waited ${Math.round((Date.now() - waitingSince) / 1000)} s for ${attempt.owner.host} (pid ${attempt.owner.pid}) to finish generating "${generation.prompt}" through the shared cache ${this.store.url}.`,
          {
            ...(attempt.task ? { taskId: attempt.task.taskId } : {}),
            hint: "That machine is still working on it (its claim is fresh). Build again later: the result is then fetched, not paid for; or raise `timeout`.",
          },
        );
      }
      await sleepOrAbort(waitMs * (0.75 + Math.random() / 2), signal, generation);
      waitMs = Math.min(this.#maxPollMs, waitMs * 1.5);
    }
  }

  /**
   * Claims rest on the store refusing a second create-only write. A store that ignores `If-None-Match` (some
   * S3-compatible servers do) still shares images, but machines that miss at the same time may each pay: say so.
   */
  async #checkConditionalWrites(): Promise<void> {
    const probe = `claims/.probe-${this.#claims.owner.id}`;
    const body = Buffer.from("conditional write probe\n");
    const first = await this.store.put(probe, body, { condition: { ifNoneMatch: "*" } });
    const second = first.ok ? await this.store.put(probe, body, { condition: { ifNoneMatch: "*" } }) : first;
    await this.store.delete(probe).catch(() => {});
    if (second.ok) {
      this.#warn(
        `The shared cache ${this.store.url} ignores create-only writes (If-None-Match: *): machines that miss the same image at the same time may each pay for it. Use a store that supports S3 conditional writes (AWS S3, Cloudflare R2, MinIO...).`,
      );
    }
  }

  async #generateHeld<C extends SharedGenerateContext>(
    key: string,
    generation: Generation,
    ctx: C,
    claim: HeldClaim,
    local: (ctx: C) => Promise<SharedOutcome>,
    damagedEtag: string | undefined,
  ): Promise<SharedOutcome> {
    const { cache } = ctx;
    const pending = await cache.readPending(key);
    const task = claim.task;
    if (task && !pending) {
      // The previous holder's task: the local run resumes it from the journal, exactly as after a local crash.
      await cache.writePending(key, {
        taskId: task.taskId,
        generation,
        submittedAt: task.submittedAt,
        attempt: task.attempt,
      });
    } else if (pending && task?.taskId !== pending.taskId) {
      await claim.journal({
        taskId: pending.taskId,
        submittedAt: pending.submittedAt,
        attempt: pending.attempt,
      });
    }
    let outcome: SharedOutcome;
    try {
      outcome = await local({ ...ctx, cache: journaling(cache, claim) });
    } catch (error) {
      // A journaled task is paid and resumable: the claim stays for a machine to take over once it is stale (never
      // a new payment). Without a task there is nothing to resume, and the next machine may try at once.
      if (claim.task) await claim.abandon();
      else await claim.release();
      throw error;
    }
    try {
      await this.publish(cache, key, outcome.entry, damagedEtag);
      await claim.release();
    } catch (error) {
      // The images are paid and local: the build goes on. The claim stays, with its task id, so another machine
      // resumes the task for free instead of paying.
      await claim.abandon();
      this.#warn(
        `Uploading "${generation.prompt}" to the shared cache failed; this build uses it, other machines will resume task ${outcome.entry.taskId} for free.\n${(error as Error).message}`,
      );
    }
    return outcome;
  }

  /**
   * Write-through of one generation: its originals (create-only: content-addressed, so an existing object holds
   * these bytes), then its entry. `replaceEtag` names a damaged entry this one replaces.
   */
  async publish(cache: ImageCache, key: string, entry: ManifestEntry, replaceEtag?: string): Promise<void> {
    for (const record of entry.originals) await this.uploadOriginal(cache, record);
    const body = serializeEntry(key, entry);
    const created = await this.store.put(entryName(key), body, {
      condition: { ifNoneMatch: "*" },
      contentType: "application/json",
    });
    if (!created.ok && replaceEtag) {
      await this.store.put(entryName(key), body, {
        condition: { ifMatch: replaceEtag },
        contentType: "application/json",
      });
    }
  }

  /** Uploads one original from the local cache (read and verified first): false when the store already has it. */
  async uploadOriginal(cache: ImageCache, record: OriginalRecord): Promise<boolean> {
    const bytes = await cache.readOriginal(record);
    const put = await this.store.put(originalName(record), bytes, {
      condition: { ifNoneMatch: "*" },
      contentType: `image/${record.format}`,
    });
    return put.ok;
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

/** The local cache, with every journaled task also journaled in the claim (so another machine can resume it). */
function journaling(cache: ImageCache, claim: HeldClaim): ImageCache {
  return new Proxy(cache, {
    get(target, property) {
      if (property === "writePending") {
        return async (key: string, record: Parameters<ImageCache["writePending"]>[1]) => {
          await target.writePending(key, record);
          await claim.journal({
            taskId: record.taskId,
            submittedAt: record.submittedAt,
            attempt: record.attempt,
          });
        };
      }
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function throwIfAborted(signal: AbortSignal | undefined, generation: Generation): void {
  if (signal?.aborted) {
    throw new GrokImageError(
      "GROK_ABORTED",
      `Stopped waiting on the shared cache for "${generation.prompt}": aborted.`,
      {
        cause: signal.reason,
      },
    );
  }
}

async function sleepOrAbort(
  ms: number,
  signal: AbortSignal | undefined,
  generation: Generation,
): Promise<void> {
  try {
    await sleep(ms, undefined, signal ? { signal } : undefined);
  } catch {
    throwIfAborted(signal, generation);
  }
}
