import { type Stats, statSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { FINE_WINDOW_MS, fileIdentity, racyWindowMs, readSettled } from "../shared/file-identity.js";
import { hashFile } from "./hash-file.js";
import type { VariantMeta } from "./variant-store.js";
import { writeFileAtomic } from "./write-file-atomic.js";

/**
 * Variants this machine has already hashed and found intact, with the file's identity at that moment (size,
 * modification and change times, inode, device). While a file keeps that identity its bytes have not been
 * written since, so a cache hit costs one `stat` instead of reading the sidecar and reading and hashing the file.
 * Any change of the identity (file-identity.ts) and the variant is checked in full again. Per machine, so it lives
 * in the cache's git-ignored `locks/`; losing it only costs one full check per variant.
 *
 * A variant is recorded only when its bytes were read a window after its last change (`readSettled`: 50 ms where
 * file times have fractions of a second, 2 s where they are whole seconds). A variant read or written sooner is held
 * back and hashed again once it is a window old, at the next write of the record, so the build that wrote a variant
 * also leaves it recorded and the next build only `stat`s it. A plain `stat` (no BigInt per field) is all a hit
 * costs.
 */
export class VerifiedVariants {
  readonly file: string;
  /** A fixed window instead of the file system's (0 turns the guard off). */
  readonly #racyMs: number | undefined;
  #entries: Promise<Map<string, Verified>> | undefined;
  /** The same map as `#entries`, once read. */
  #loaded: Map<string, Verified> | undefined;
  /** Variants found or written intact too soon after their last change to record yet: name to path and sidecar. */
  readonly #held = new Map<string, { path: string; meta: VariantMeta }>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #saving: Promise<void> | undefined;
  /** Whether the record differs from the file: a save with nothing new recorded writes nothing. */
  #changed = false;

  constructor(file: string, options: { racyMs?: number } = {}) {
    this.file = file;
    this.#racyMs = options.racyMs;
  }

  /** The sidecar of `name` when its file is exactly as it was when verified; undefined otherwise. */
  async lookup(name: string, path: (meta: VariantMeta) => string): Promise<VariantMeta | undefined> {
    await this.load();
    return this.lookupNow(name, path);
  }

  /** The identity `name` was verified with, once the record is read: `lookupNow` found the file so just now. */
  identityOf(name: string): string | undefined {
    return this.#loaded?.get(name)?.identity;
  }

  /** Reads the record, once: `lookupNow` answers from it. */
  async load(): Promise<void> {
    await this.#load();
  }

  /**
   * `lookup` without waiting, once the record is read (`load`; undefined before): a build of thousands of hits
   * answers nearly all of them with one `stat` each and no promise. A record that no longer holds is forgotten.
   */
  lookupNow(name: string, path: (meta: VariantMeta) => string): VariantMeta | undefined {
    const known = this.#loaded?.get(name);
    if (!known) return undefined;
    // Synchronous on purpose: a few microseconds for an entry the kernel has cached, where thousands of hits
    // queued on the thread pool (which the bundler's own reads share) keep a build waiting.
    let info: Stats | undefined;
    try {
      info = statSync(path(known.meta), { throwIfNoEntry: false });
    } catch {
      // Unreadable: the full check says what is wrong.
    }
    if (info && fileIdentity(info) === known.identity) return known.meta;
    this.#loaded?.delete(name);
    this.#changed = true;
    this.#saveSoon();
    return undefined;
  }

  /**
   * Remembers that the file at `path` matched `meta` when read, the read having started at `readAt`
   * (`Date.now()`). Too soon after the file's last change, it is held back and hashed again later.
   */
  async record(name: string, path: string, meta: VariantMeta, readAt: number): Promise<void> {
    await this.#recordOrHold(name, path, meta, readAt);
    this.#saveSoon();
  }

  /** Remembers that `path` was just written as `meta` describes: recorded once hashed again a window later. */
  written(name: string, path: string, meta: VariantMeta): void {
    this.#held.set(name, { path, meta });
    this.#saveSoon();
  }

  /**
   * Writes the record now if it changed (it is otherwise written shortly after the last change). Variants held
   * back are waited for when their window is short (a process about to exit waits at most that long), and left
   * to the next check when it is not.
   */
  async flush(): Promise<void> {
    await this.#saving;
    if (!this.#timer) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#save(true);
  }

  /**
   * Records `path`, read from `readAt` on, when that read began a window after its last change; holds it back
   * otherwise. A file that is gone is neither.
   */
  async #recordOrHold(name: string, path: string, meta: VariantMeta, readAt: number): Promise<void> {
    const info = await stat(path).catch(() => undefined);
    if (!info) return;
    if (!readSettled(info, readAt, this.#window(info))) {
      this.#held.set(name, { path, meta });
      return;
    }
    (await this.#load()).set(name, { identity: fileIdentity(info), meta });
    this.#held.delete(name);
    this.#changed = true;
  }

  #window(info: Stats): number {
    if (this.#racyMs !== undefined) return this.#racyMs;
    return racyWindowMs(info);
  }

  /**
   * Hashes again each held-back variant whose last change is now a window old, and records it when its bytes
   * still match. `wait`: first sleep until the short windows have passed. One file at a time, streamed: the
   * variants of a large build would otherwise all be in memory at once, and this is never on the way of a hit.
   */
  async #settle(wait: boolean): Promise<void> {
    for (const [name, { path, meta }] of [...this.#held]) {
      this.#held.delete(name);
      const info = await stat(path).catch(() => undefined);
      if (!info) continue;
      const window = this.#window(info);
      let readAt = Date.now();
      const early = info.ctimeMs + window - readAt;
      if (early > 0 && !(wait && window <= FINE_WINDOW_MS)) {
        this.#held.set(name, { path, meta });
        continue;
      }
      if (early > 0) await sleep(Math.ceil(early) + 1);
      readAt = Date.now();
      const found = await hashFile(path).catch(() => undefined);
      // Changed meanwhile, or not what was written: the next full check finds out what it is.
      if (found?.bytes !== meta.bytes || found.sha256 !== meta.sha256) continue;
      await this.#recordOrHold(name, path, meta, readAt);
    }
  }

  #load(): Promise<Map<string, Verified>> {
    this.#entries ??= readFile(this.file, "utf8")
      .then(parse, () => new Map<string, Verified>())
      .then((entries) => {
        this.#loaded = entries;
        return entries;
      });
    return this.#entries;
  }

  /** One write per burst of changes; never holds the process open. Best effort: a lost write costs re-checks. */
  #saveSoon(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#save(false);
    }, SAVE_DELAY_MS);
    this.#timer.unref();
  }

  /** One save at a time: `flush` waits for one under way, and a held-back variant is settled once. */
  #save(wait: boolean): Promise<void> {
    this.#saving = (this.#saving ?? Promise.resolve()).then(async () => {
      await this.#settle(wait).catch(() => {});
      if (this.#changed) {
        this.#changed = false;
        const variants: Record<string, [string, VariantMeta]> = {};
        for (const [name, { identity, meta }] of await this.#load()) variants[name] = [identity, meta];
        await writeFileAtomic(this.file, JSON.stringify({ version: VERSION, variants })).catch(() => {});
      }
      // Still too fresh (or on a coarse file system): tried again shortly, while the process lives.
      if (this.#held.size > 0) this.#saveSoon();
    });
    return this.#saving;
  }
}

interface Verified {
  identity: string;
  meta: VariantMeta;
}

/** 2: times in milliseconds (1 had nanoseconds); a record of another version is read as empty. */
const VERSION = 2;
const SAVE_DELAY_MS = 200;

function parse(text: string): Map<string, Verified> {
  const entries = new Map<string, Verified>();
  try {
    const data = JSON.parse(text) as { version?: unknown; variants?: Record<string, unknown> };
    if (data.version !== VERSION || typeof data.variants !== "object" || data.variants === null)
      return entries;
    for (const [name, value] of Object.entries(data.variants)) {
      if (!Array.isArray(value) || typeof value[0] !== "string" || typeof value[1] !== "object") continue;
      entries.set(name, { identity: value[0], meta: value[1] as VariantMeta });
    }
  } catch {
    // Unreadable: every variant is checked in full once more.
  }
  return entries;
}
