import { type Stats, statSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import type { VariantMeta } from "./variant-store.js";
import { writeFileAtomic } from "./write-file-atomic.js";

/**
 * Variants this machine has already hashed and found intact, with the file's identity at that moment (size,
 * modification and change times, inode, device). While a file keeps that identity its bytes have not been
 * written since, so a cache hit costs one `stat` instead of reading the sidecar and reading and hashing the file.
 * Any write, truncation, replacement, deletion or copy (a `git checkout`, a CI cache restore) changes the identity,
 * and the variant is then checked in full again. Per machine, so it lives in the cache's git-ignored `locks/`;
 * losing it only costs one full check per variant.
 *
 * File times are coarse (a clock tick): a file written again within the same tick as it was verified could keep
 * its identity. As git does with "racily clean" files, a file changed less than `racyMs` ago is not recorded; the
 * next check hashes it in full once more, and records it then. So a recorded change time lies at least `racyMs`
 * in the past, and any later write (whatever it does to the modification time, the change time is always the
 * clock's) moves it by as much: times to the millisecond tell it, and a plain `stat` (no BigInt per field) is all
 * a hit costs.
 */
export class VerifiedVariants {
  readonly file: string;
  readonly #racyMs: number;
  #entries: Promise<Map<string, Verified>> | undefined;
  /** The same map as `#entries`, once read. */
  #loaded: Map<string, Verified> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(file: string, options: { racyMs?: number } = {}) {
    this.file = file;
    this.#racyMs = options.racyMs ?? RACY_MS;
  }

  /** The sidecar of `name` when its file is exactly as it was when verified; undefined otherwise. */
  async lookup(name: string, path: (meta: VariantMeta) => string): Promise<VariantMeta | undefined> {
    await this.load();
    return this.lookupNow(name, path);
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
    if (info && identity(info) === known.identity) return known.meta;
    this.#loaded?.delete(name);
    this.#saveSoon();
    return undefined;
  }

  /** Remembers that the file at `path` was just found (or written) intact, as `meta` describes it. */
  async record(name: string, path: string, meta: VariantMeta): Promise<void> {
    const info = await stat(path).catch(() => undefined);
    // `racyMs: 0` turns the guard off. Compared with 0, a file written this very millisecond would still be left
    // out: `Date.now()` is whole milliseconds, a change time is not, so the change reads as a fraction ahead.
    if (!info || (this.#racyMs > 0 && Date.now() - info.ctimeMs < this.#racyMs)) return;
    (await this.#load()).set(name, { identity: identity(info), meta });
    this.#saveSoon();
  }

  /** Writes the record now if it changed (it is otherwise written shortly after the last change). */
  async flush(): Promise<void> {
    if (!this.#timer) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#save();
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
      void this.#save();
    }, SAVE_DELAY_MS);
    this.#timer.unref();
  }

  async #save(): Promise<void> {
    const entries = await this.#load();
    const variants: Record<string, [string, VariantMeta]> = {};
    for (const [name, { identity, meta }] of entries) variants[name] = [identity, meta];
    await writeFileAtomic(this.file, JSON.stringify({ version: VERSION, variants })).catch(() => {});
  }
}

interface Verified {
  identity: string;
  meta: VariantMeta;
}

/** 2: times in milliseconds (1 had nanoseconds); a record of another version is read as empty. */
const VERSION = 2;
const SAVE_DELAY_MS = 200;
/** A file changed this recently is not recorded: its identity might not change on its next write. */
const RACY_MS = 2000;

function identity(info: Stats): string {
  return `${info.size}:${info.mtimeMs}:${info.ctimeMs}:${info.ino}:${info.dev}`;
}

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
