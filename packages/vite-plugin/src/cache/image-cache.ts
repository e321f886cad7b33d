import { mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { GrokImageError } from "../errors.js";
import type { ManifestEntry, OriginalRecord, OutputFormat } from "../types.js";
import { cacheAccessError } from "./cache-access-error.js";
import { listTrash } from "./cache-trash.js";
import { fileExtension } from "./file-extension.js";
import { hashFile, sha256Hex } from "./hash-file.js";
import {
  acquireDirLock,
  type DirLockOptions,
  type LockWait,
  lockDirFor,
  sweepStaleLockGraves,
} from "./key-lock.js";
import { KeyQueue } from "./key-queue.js";
import { entryProblem, type Manifest, serializeManifest } from "./manifest-file.js";
import { ManifestStore } from "./manifest-store.js";
import { PendingJournal, type PendingRecord } from "./pending-journal.js";
import { type VariantCheck, type VariantMeta, VariantStore } from "./variant-store.js";
import type { VerifyReport } from "./verify-cache.js";
import { sweepStaleTemps, writeFileAtomic } from "./write-file-atomic.js";

/** The `.grok-images/` directory. Every method is safe to call from several processes sharing the directory. */
export interface ImageCache {
  /** Absolute path of the cache directory. */
  readonly dir: string;
  /** What was wrong with `manifest.json` when it was last read (dropped entries); empty when it was clean. */
  readonly manifestProblems: readonly string[];
  /** The entry of a generation key, from memory: no I/O. Shared with the cache: read-only. */
  lookup(key: string): ManifestEntry | undefined;
  /** Re-reads `manifest.json` when it changed on disk since this process last read or wrote it; a `stat` otherwise. */
  refresh(): Promise<void>;
  /** Every generation key, sorted. */
  keys(): string[];
  originalPath(record: OriginalRecord): string;
  /** The original's bytes, verified against its size and sha256; GROK_CACHE_CORRUPT when missing or damaged. */
  readOriginal(record: OriginalRecord): Promise<Buffer>;
  /** Whether every original of the entry exists and matches its hash. */
  checkEntry(key: string): Promise<{ ok: boolean; problems: string[] }>;
  /** What is wrong with an original on disk (hashed as a stream), or undefined when it is intact. */
  originalProblem(record: OriginalRecord): Promise<string | undefined>;
  /**
   * Puts back a damaged or missing original from an intact copy elsewhere in the cache directory: the same sha256
   * under another extension in `originals/`, or in a prune's trash. Resolves with the copy's path, or undefined
   * when there is none.
   */
  restoreOriginalCopy(record: OriginalRecord): Promise<string | undefined>;
  /**
   * Writes `bytes` over a damaged original, if they are the recorded ones (size and sha256). Resolves whether
   * they were.
   */
  repairOriginal(record: OriginalRecord, bytes: Buffer): Promise<boolean>;
  /** Stores downloaded bytes as `originals/<sha256>.<ext>` (content-addressed) and describes them. */
  storeOriginal(bytes: Buffer): Promise<OriginalRecord>;
  /**
   * Records a generation (the commit marker: its originals must already be stored), merged under the manifest
   * lock with what other processes committed, then removes the pending record of the key. Concurrent commits of
   * one process share one locked write; each resolves only once its own entry is on disk.
   */
  commit(key: string, entry: ManifestEntry): Promise<void>;
  /**
   * Drops entries, and deletes their originals that no remaining entry references. With `trashDir` (an existing
   * directory), nothing is deleted: the dropped entries are written to `<trashDir>/manifest.json` before the
   * manifest loses them, and those originals are moved to `<trashDir>/originals/`.
   */
  remove(keys: string[], options?: { trashDir?: string }): Promise<void>;
  /**
   * Puts entries back in one manifest write, leaving out keys the manifest holds again (generated anew since):
   * those stay as they are. Every original of a restored entry must already be in `originals/`. Resolves with
   * the keys restored, sorted.
   */
  restore(entries: ReadonlyMap<string, ManifestEntry>): Promise<string[]>;
  /** The journal file of a key, as messages that tell a person to delete it name it. */
  pendingPath(key: string): string;
  readPending(key: string): Promise<PendingRecord | undefined>;
  writePending(key: string, record: PendingRecord): Promise<void>;
  removePending(key: string): Promise<void>;
  listPending(): Promise<Array<{ key: string; record: PendingRecord }>>;
  /**
   * Runs `fn` while holding the key: one caller at a time in this process, one process at a time across
   * processes sharing the cache. The manifest is re-read before `fn` runs, so `fn` must start with
   * `lookup(key)`: a caller that waited finds the winner's entry there and pays nothing.
   */
  withKeyLock<T>(
    key: string,
    fn: () => Promise<T>,
    opts?: { signal?: AbortSignal; onWait?: () => void; onLongWait?: (wait: LockWait) => void },
  ): Promise<T>;
  variantPath(name: string, format: OutputFormat): string;
  /** Whether a variant is there and matches its sidecar's sha256 (read and hashed, never decoded). */
  checkVariant(name: string): Promise<VariantCheck>;
  /**
   * Writes the record of verified variants now: a process about to exit (the CLI, a build's last environment) would
   * otherwise leave the next build to hash every variant it checked again.
   */
  saveVerifiedVariants(): Promise<void>;
  /**
   * The sidecar of a variant this machine verified and whose file has not changed since (one `stat`, no await: the
   * cache read its record of verified variants as it opened); undefined otherwise (`checkVariant` then checks in
   * full).
   */
  verifiedVariant(name: string): VariantMeta | undefined;
  /** The identity (verified-variants.ts) of a variant's file as this machine verified it, after `verifiedVariant`. */
  verifiedIdentity(name: string): string | undefined;
  /** `manifest.json`'s identity as this process last read or wrote it (manifest-store.ts `fileStamp`). */
  manifestStamp(): string | undefined;
  /** Writes the variant file, then its sidecar. */
  writeVariant(name: string, data: Buffer, meta: VariantMeta): Promise<void>;
  /** Checks every file of the cache (for `grok-image verify`). */
  verify(): Promise<VerifyReport>;
}

export interface OpenCacheOptions {
  /**
   * What to do when `manifest.json` is not valid JSON (a merge conflict, a truncated copy). `"throw"` reports
   * GROK_CACHE_CORRUPT and changes nothing; `"reset"` keeps the file as `manifest.json.corrupt-<time>` and
   * starts from an empty manifest. @default "throw"
   */
  onCorruptManifest?: "throw" | "reset";
  /** Lock timings; tests shorten them. */
  lock?: Pick<DirLockOptions, "staleMs" | "heartbeatMs" | "pollMs">;
}

/** Generation keys become file names: only a conservative alphabet, so no key can escape its directory. */
const SAFE_KEY = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
/** Not committed: locks are per machine, temps are leftovers. */
const GITIGNORE = "# Per-machine files; everything else here is meant to be committed.\nlocks/\n*.tmp\n";

/** Opens (creating when needed) the cache at `dir`, sweeps leftovers of killed writers, reads the manifest. */
export async function openCache(dir: string, options: OpenCacheOptions = {}): Promise<ImageCache> {
  const cache = new DirectoryCache(resolve(dir), options);
  try {
    await cache.open();
  } catch (error) {
    // A file where the folder should be, no permission, a read-only volume: GROK_CACHE_UNWRITABLE, not a bare errno.
    throw cacheAccessError(error, cache.dir) ?? error;
  }
  return cache;
}

class DirectoryCache implements ImageCache {
  readonly dir: string;
  readonly originalsDir: string;
  readonly variants: VariantStore;
  private readonly manifest: ManifestStore;
  private readonly locksDir: string;
  private readonly pending: PendingJournal;
  private readonly keyQueue = new KeyQueue();
  private readonly options: OpenCacheOptions;

  constructor(dir: string, options: OpenCacheOptions) {
    this.dir = dir;
    this.options = options;
    this.originalsDir = join(dir, "originals");
    this.locksDir = join(dir, "locks");
    this.manifest = new ManifestStore(dir, this.locksDir, options);
    this.pending = new PendingJournal(join(dir, "pending"));
    // The record of verified variants is per machine (inodes, change times): it lives in the git-ignored locks/.
    this.variants = new VariantStore(join(dir, "variants"), join(dir, "locks", "verified-variants.json"));
  }

  get manifestProblems(): readonly string[] {
    return this.manifest.problems;
  }

  async open(): Promise<void> {
    // Side by side: a build's first cache hits wait for this. Only the folder upkeep needs the folders made; the
    // manifest and the record of verified variants (which those hits read next) are read meanwhile.
    const folders = Promise.all(
      [this.originalsDir, this.variants.dir, this.pending.dir, this.locksDir].map((sub) =>
        mkdir(sub, { recursive: true }),
      ),
    );
    await Promise.all([
      folders.then(() =>
        Promise.all([
          writeFileAtomic(join(this.dir, ".gitignore"), GITIGNORE, { ifExists: "keep" }).catch(() => {}),
          sweepStaleLockGraves(this.locksDir),
        ]),
      ),
      this.manifest.refresh(),
      this.variants.loadVerified(),
    ]);
  }

  /**
   * Removes what killed writers left (temp files an hour old), once per cache opened, as this process first writes.
   * Not on open: that lists every folder (thousands of names), and a build whose images are all cached writes
   * nothing and leaves nothing behind; the next process that writes sweeps.
   */
  private sweepBeforeWriting(): void {
    // Never rejects: a folder that cannot be listed, or a temp another sweeper took first, is skipped.
    this.swept ??= Promise.all(
      [this.dir, this.originalsDir, this.variants.dir, this.pending.dir].map((sub) => sweepStaleTemps(sub)),
    );
  }
  private swept: Promise<unknown> | undefined;

  lookup(key: string): ManifestEntry | undefined {
    return this.manifest.get(key);
  }

  keys(): string[] {
    return this.manifest.keys();
  }

  refresh(): Promise<void> {
    return this.manifest.refresh();
  }

  originalPath(record: OriginalRecord): string {
    return join(this.originalsDir, `${record.sha256}.${fileExtension(record.format)}`);
  }

  private corrupt(record: OriginalRecord, what: string): GrokImageError {
    // Name the generations that use it, so the message says which images are affected.
    const keys = this.keys().filter((key) =>
      this.lookup(key)?.originals.some((o) => o.sha256 === record.sha256),
    );
    const owner = keys.length > 0 ? ` (generation ${keys.join(", ")})` : "";
    return new GrokImageError(
      "GROK_CACHE_CORRUPT",
      `The cached original ${this.originalPath(record)}${owner} ${what}.`,
      {
        hint: "In generate mode it is generated again on the next build; run `grok-image verify` to check the whole cache.",
      },
    );
  }

  async readOriginal(record: OriginalRecord): Promise<Buffer> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.originalPath(record));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") throw this.corrupt(record, "is missing");
      throw error;
    }
    if (bytes.length !== record.bytes) {
      throw this.corrupt(record, `has ${bytes.length} bytes instead of ${record.bytes}`);
    }
    if (sha256Hex(bytes) !== record.sha256) throw this.corrupt(record, "does not match its sha256");
    return bytes;
  }

  async checkEntry(key: string): Promise<{ ok: boolean; problems: string[] }> {
    const entry = this.lookup(key);
    if (!entry) return { ok: false, problems: [`no manifest entry for ${key}`] };
    const problems: string[] = [];
    for (const record of entry.originals) {
      const problem = await this.originalProblem(record);
      if (problem) problems.push(problem);
    }
    return { ok: problems.length === 0, problems };
  }

  /** What is wrong with an original on disk (hashed as a stream), or undefined when it is intact. */
  async originalProblem(record: OriginalRecord): Promise<string | undefined> {
    const file = this.originalPath(record);
    const found = await hashFile(file);
    if (!found) return `${file} is missing`;
    if (found.bytes !== record.bytes) return `${file} has ${found.bytes} bytes instead of ${record.bytes}`;
    if (found.sha256 !== record.sha256) return `${file} does not match its sha256`;
    return undefined;
  }

  private async originalAbsent(record: OriginalRecord): Promise<string | undefined> {
    const file = this.originalPath(record);
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) return `${file} is missing`;
    if (info.size !== record.bytes) return `${file} has ${info.size} bytes instead of ${record.bytes}`;
    return undefined;
  }

  async restoreOriginalCopy(record: OriginalRecord): Promise<string | undefined> {
    const target = this.originalPath(record);
    const folders = [
      this.originalsDir,
      ...(await listTrash(this.dir)).reverse().map((f) => join(f.dir, "originals")),
    ];
    for (const folder of folders) {
      const names = await readdir(folder).catch(() => [] as string[]);
      for (const name of names.filter((n) => n.startsWith(`${record.sha256}.`)).sort()) {
        const copy = join(folder, name);
        if (copy === target) continue;
        const bytes = await readFile(copy).catch(() => undefined);
        if (bytes && (await this.repairOriginal(record, bytes))) return copy;
      }
    }
    return undefined;
  }

  async repairOriginal(record: OriginalRecord, bytes: Buffer): Promise<boolean> {
    if (bytes.length !== record.bytes || sha256Hex(bytes) !== record.sha256) return false;
    this.sweepBeforeWriting();
    // Overwrite, unlike `storeOriginal`: the file under this name is the damaged one.
    await writeFileAtomic(this.originalPath(record), bytes);
    return true;
  }

  async storeOriginal(bytes: Buffer): Promise<OriginalRecord> {
    this.sweepBeforeWriting();
    // sharp loads here, when an original is stored, never on a cache hit.
    const { readImageInfo } = await import("../image/read-image-info.js");
    const info = await readImageInfo(bytes);
    const record: OriginalRecord = {
      sha256: sha256Hex(bytes),
      width: info.width,
      height: info.height,
      format: info.format,
      bytes: bytes.length,
    };
    // Content-addressed: an intact file of that name already holds exactly these bytes. One that is there but
    // damaged is replaced, so the write overwrites.
    if ((await this.originalProblem(record)) !== undefined) {
      await writeFileAtomic(this.originalPath(record), bytes);
    }
    return record;
  }

  async commit(key: string, entry: ManifestEntry): Promise<void> {
    assertSafeKey(key);
    const problem = entryProblem(entry);
    if (problem) throw new TypeError(`Refusing to commit a malformed cache entry for ${key}: ${problem}.`);
    // The store keeps (and caches the serialized text of) its own copy: the caller's object stays the caller's.
    const stored: ManifestEntry = { ...entry, originals: entry.originals.map((o) => ({ ...o })) };
    this.sweepBeforeWriting();
    // Concurrent commits of this process are written together; this resolves once this entry is on disk.
    await this.manifest.update(async (entries) => {
      // Checked under the lock, so a concurrent `remove` cannot delete an original this entry needs. A stat, not a
      // hash: `storeOriginal` verified the bytes, and hashing here would serialize every commit behind it.
      for (const record of stored.originals) {
        const missing = await this.originalAbsent(record);
        if (missing) {
          throw new GrokImageError("GROK_CACHE_CORRUPT", `Cannot commit generation ${key}: ${missing}.`, {
            hint: "Store every original before committing its entry; run `grok-image verify`.",
            taskId: entry.taskId,
          });
        }
      }
      entries.set(key, stored);
    });
    // Only once the entry is on disk: until then the journal is what lets a killed build resume the task.
    await this.pending.remove(key);
  }

  async remove(keys: string[], options: { trashDir?: string } = {}): Promise<void> {
    this.sweepBeforeWriting();
    const { trashDir } = options;
    await this.manifest.update(async (entries) => {
      const candidates = new Map<string, OriginalRecord>();
      const removed: Manifest = new Map();
      for (const key of keys) {
        const entry = entries.get(key);
        if (entry) removed.set(key, entry);
        for (const record of entry?.originals ?? []) candidates.set(record.sha256, record);
      }
      // The trash's record is on disk before the manifest forgets the entries: a crash in between leaves them
      // in both places, never in neither.
      if (trashDir) await writeFileAtomic(join(trashDir, "manifest.json"), serializeManifest(removed));
      for (const key of removed.keys()) entries.delete(key);
      // Originals go after the manifest no longer names them (an orphan file is harmless, a dangling entry is
      // not), and only those no entry of the written manifest uses: a commit of the same group may share one.
      return async (written) => {
        for (const entry of written.values())
          for (const record of entry.originals) candidates.delete(record.sha256);
        for (const record of candidates.values()) {
          const file = this.originalPath(record);
          if (!trashDir) await rm(file, { force: true });
          else
            await rename(file, join(trashDir, "originals", basename(file))).catch((error) => {
              if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
            });
        }
      };
    });
  }

  async restore(entries: ReadonlyMap<string, ManifestEntry>): Promise<string[]> {
    this.sweepBeforeWriting();
    for (const [key, entry] of entries) {
      assertSafeKey(key);
      const problem = entryProblem(entry);
      if (problem) throw new TypeError(`Refusing to restore a malformed cache entry for ${key}: ${problem}.`);
    }
    const restored: string[] = [];
    await this.manifest.update(async (current) => {
      const back: Array<[string, ManifestEntry]> = [];
      for (const [key, entry] of entries) {
        if (current.has(key)) continue;
        // Under the lock, as in `commit`: a concurrent `remove` cannot take an original these entries need.
        for (const record of entry.originals) {
          const missing = await this.originalAbsent(record);
          if (missing) {
            throw new GrokImageError("GROK_CACHE_CORRUPT", `Cannot restore generation ${key}: ${missing}.`, {
              hint: "Move its originals back into originals/ first; run `grok-image verify`.",
              taskId: entry.taskId,
            });
          }
        }
        back.push([key, { ...entry, originals: entry.originals.map((o) => ({ ...o })) }]);
      }
      // All checked before any is set: a throw leaves the manifest as it was.
      for (const [key, entry] of back) {
        current.set(key, entry);
        restored.push(key);
      }
    });
    return restored.sort();
  }

  pendingPath(key: string): string {
    assertSafeKey(key);
    return this.pending.path(key);
  }

  async readPending(key: string): Promise<PendingRecord | undefined> {
    assertSafeKey(key);
    return this.pending.read(key);
  }

  async writePending(key: string, record: PendingRecord): Promise<void> {
    assertSafeKey(key);
    this.sweepBeforeWriting();
    return this.pending.write(key, record);
  }

  async removePending(key: string): Promise<void> {
    assertSafeKey(key);
    return this.pending.remove(key);
  }

  listPending(): Promise<Array<{ key: string; record: PendingRecord }>> {
    return this.pending.list();
  }

  async withKeyLock<T>(
    key: string,
    fn: () => Promise<T>,
    opts: { signal?: AbortSignal; onWait?: () => void; onLongWait?: (wait: LockWait) => void } = {},
  ): Promise<T> {
    assertSafeKey(key);
    const queued = this.keyQueue.busy(key);
    if (queued) opts.onWait?.();
    return this.keyQueue.run(
      key,
      async () => {
        const lock = await acquireDirLock(lockDirFor(this.locksDir, `key-${key}`), {
          ...this.options.lock,
          label: `generation ${key}`,
          ...(opts.signal ? { signal: opts.signal } : {}),
          // Reported once per caller: already reported when it queued behind a holder in this process.
          ...(opts.onWait && !queued ? { onWait: opts.onWait } : {}),
          // Another process holding the key for long is said, with who it is and for how long.
          ...(opts.onLongWait ? { onLongWait: opts.onLongWait } : {}),
        });
        try {
          // The one refresh before a key's work (a stat when nothing changed): another process may have committed
          // the key while we waited for the lock, or since this process planned the batch.
          await this.manifest.refresh();
          return await fn();
        } finally {
          await lock.release();
        }
      },
      opts.signal,
    );
  }

  variantPath(name: string, format: OutputFormat): string {
    assertSafeKey(name);
    return this.variants.path(name, format);
  }

  async checkVariant(name: string): Promise<VariantCheck> {
    assertSafeKey(name);
    return this.variants.check(name);
  }

  saveVerifiedVariants(): Promise<void> {
    return this.variants.saveVerified();
  }

  verifiedVariant(name: string): VariantMeta | undefined {
    assertSafeKey(name);
    return this.variants.verifiedNow(name);
  }

  verifiedIdentity(name: string): string | undefined {
    return this.variants.verifiedIdentity(name);
  }

  manifestStamp(): string | undefined {
    return this.manifest.lastStamp;
  }

  async writeVariant(name: string, data: Buffer, meta: VariantMeta): Promise<void> {
    assertSafeKey(name);
    this.sweepBeforeWriting();
    return this.variants.write(name, data, meta);
  }

  async verify(): Promise<VerifyReport> {
    try {
      await this.manifest.refresh(true);
    } catch (error) {
      if (!(error instanceof GrokImageError)) throw error;
      // An unreadable manifest is the finding; the files are still checked against the last good copy.
      this.manifest.problems = [error.message];
    }
    return (await import("./verify-cache.js")).verifyCache(this);
  }
}

function assertSafeKey(key: string): void {
  if (!SAFE_KEY.test(key)) throw new TypeError(`Not a valid cache key: ${JSON.stringify(key)}.`);
}
