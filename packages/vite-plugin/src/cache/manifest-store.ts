import { copyFile, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { GrokImageError } from "../errors.js";
import type { ManifestEntry } from "../types.js";
import { acquireDirLock, type DirLockOptions, type HeldLock, lockDirFor } from "./key-lock.js";
import { type Manifest, ManifestSyntaxError, manifestChunks, parseManifest } from "./manifest-file.js";
import { writeFileAtomic } from "./write-file-atomic.js";

/**
 * One change of the manifest, applied under the manifest lock. It must either throw before touching `entries`
 * (its caller is rejected, the rest of the group is still written) or succeed. It may return a follow-up that
 * runs after the file is written, still under the lock, with the entries as written.
 */
export type ManifestChange = (
  entries: Manifest,
) => ManifestFollowUp | undefined | Promise<ManifestFollowUp | undefined>;

/** Runs after the manifest is written, still under the lock, with the entries as written. */
export type ManifestFollowUp = (written: Manifest) => Promise<void>;

interface QueuedChange {
  change: ManifestChange;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * `manifest.json` of one cache: an in-memory copy for lookups without I/O, and group commits under the manifest
 * lock. The file is re-read only when its identity changed since this process last read or wrote it (another
 * process committed), so a build of N images does O(N) JSON work per change of another process, not per commit.
 */
export class ManifestStore {
  readonly path: string;
  /** What was wrong with the file when it was last read (dropped entries). */
  problems: string[] = [];
  /** How often the file was read and parsed, and written: for tests and benchmarks. */
  readonly counters = { reads: 0, writes: 0 };
  private entries: Manifest = new Map();
  /**
   * Identity of the file as last read or written by this process. Every write renames a new file in, so the
   * inode changes; size and the nanosecond mtime guard against a recycled inode number.
   */
  private stamp: string | undefined;
  /** Bumped whenever `entries` is replaced: a read that raced with a newer adoption is discarded. */
  private version = 0;
  private refreshTail: Promise<void> = Promise.resolve();
  private readonly queue: QueuedChange[] = [];
  private flushing = false;
  private readonly locksDir: string;
  private readonly options: ManifestStoreOptions;

  constructor(dir: string, locksDir: string, options: ManifestStoreOptions) {
    this.path = join(dir, "manifest.json");
    this.locksDir = locksDir;
    this.options = options;
  }

  /** The entry, shared with the store: read-only. */
  get(key: string): ManifestEntry | undefined {
    return this.entries.get(key);
  }

  keys(): string[] {
    return [...this.entries.keys()].sort();
  }

  /**
   * Re-reads the file when it changed since this process last read or wrote it (one `stat` otherwise); `force`
   * always reads. Refreshes run one after the other, so callers arriving during a read wait for it and then
   * find the file unchanged instead of parsing it again.
   */
  refresh(force = false): Promise<void> {
    const run = this.refreshTail.then(() => this.refreshNow(force));
    this.refreshTail = run.catch(() => {});
    return run;
  }

  private async refreshNow(force: boolean): Promise<void> {
    for (;;) {
      const version = this.version;
      // Stat before reading: a writer replacing the file in between costs one more read later, never a stale copy.
      const stamp = await this.currentStamp();
      if (!force && stamp === this.stamp) return;
      const { entries, problems } = await this.readFromDisk();
      // A commit of this process adopted a newer file meanwhile: look again rather than go back in time.
      if (this.version !== version) continue;
      this.adopt(entries, problems, stamp);
      return;
    }
  }

  /**
   * Applies `change` under the manifest lock and writes the file atomically; resolves once the file holding the
   * change is on disk and the lock is released. Changes queued while a write is under way are applied together
   * in the next one: one lock, one write, one serialization for the group.
   */
  update(change: ManifestChange): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ change, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        void this.flushQueue();
      }
    });
  }

  private async flushQueue(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.flushOnce();
    } finally {
      this.flushing = false;
    }
  }

  private async flushOnce(): Promise<void> {
    let lock: HeldLock;
    try {
      lock = await acquireDirLock(lockDirFor(this.locksDir, "manifest"), {
        ...this.options.lock,
        // Held for milliseconds: poll briskly.
        pollMs: Math.min(this.options.lock?.pollMs ?? 25, 25),
        label: "manifest.json",
      });
    } catch (error) {
      for (const item of this.queue.splice(0)) item.reject(error);
      return;
    }
    // Taken once the lock is held, so every change queued while waiting for it joins this write.
    const group = this.queue.splice(0);
    const failures = new Map<QueuedChange, unknown>();
    try {
      await this.applyAndWrite(group, failures);
    } catch (error) {
      for (const item of group) if (!failures.has(item)) failures.set(item, error);
    }
    try {
      await lock.release();
    } catch (error) {
      for (const item of group) if (!failures.has(item)) failures.set(item, error);
    }
    for (const item of group) {
      if (failures.has(item)) item.reject(failures.get(item));
      else item.resolve();
    }
  }

  private async applyAndWrite(group: QueuedChange[], failures: Map<QueuedChange, unknown>): Promise<void> {
    // Under the lock nobody else writes: an unchanged identity means memory already equals the file.
    const stamp = await this.currentStamp();
    let base = this.entries;
    let problems = this.problems;
    if (stamp !== this.stamp) ({ entries: base, problems } = await this.readFromDisk());
    // A shallow copy: lookups keep seeing the last written state until the new file is on disk.
    const entries = new Map(base);
    const followUps: Array<[QueuedChange, (written: Manifest) => Promise<void>]> = [];
    for (const item of group) {
      try {
        const followUp = await item.change(entries);
        if (followUp) followUps.push([item, followUp]);
      } catch (error) {
        failures.set(item, error);
      }
    }
    if (failures.size === group.length) return;
    // Entries were dropped as malformed: keep the file as it was before they vanish from it.
    if (problems.length > 0) await this.keepCorruptCopy().catch(() => {});
    await writeFileAtomic(this.path, manifestChunks(entries));
    this.counters.writes++;
    this.adopt(entries, [], await this.currentStamp());
    // A failed follow-up concerns its own caller only: the others' changes are on disk.
    for (const [item, followUp] of followUps)
      await followUp(entries).catch((error) => failures.set(item, error));
  }

  private adopt(entries: Manifest, problems: string[], stamp: string | undefined): void {
    this.entries = entries;
    this.problems = problems;
    this.stamp = stamp;
    this.version++;
  }

  /** The file's identity as this process last read or wrote it; undefined before it has. */
  get lastStamp(): string | undefined {
    return this.stamp;
  }

  private currentStamp(): Promise<string | undefined> {
    return fileStamp(this.path);
  }

  private async readFromDisk(): Promise<{ entries: Manifest; problems: string[] }> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { entries: new Map(), problems: [] };
      throw error;
    }
    this.counters.reads++;
    try {
      return parseManifest(text);
    } catch (error) {
      if (!(error instanceof ManifestSyntaxError)) throw error;
      if (this.options.onCorruptManifest === "reset") {
        const copy = await this.keepCorruptCopy();
        return {
          entries: new Map(),
          problems: [`manifest.json was unreadable (${error.message}); kept as ${copy}`],
        };
      }
      throw new GrokImageError(
        "GROK_CACHE_CORRUPT",
        `The cache manifest ${this.path} is not valid JSON (${error.message}); it was left untouched.`,
        {
          hint:
            "Restore it from version control (look for merge-conflict markers), or run `grok-image verify`. " +
            "Deleting it makes every image a miss: in generate mode each would be paid for again.",
          cause: error,
        },
      );
    }
  }

  private async keepCorruptCopy(): Promise<string> {
    const copy = `${this.path}.corrupt-${new Date().toISOString().replace(/[:.]/g, "-")}`;
    await copyFile(this.path, copy);
    return copy;
  }
}

export interface ManifestStoreOptions {
  onCorruptManifest?: "throw" | "reset";
  lock?: Pick<DirLockOptions, "staleMs" | "heartbeatMs" | "pollMs">;
}

/**
 * A manifest file's identity: its inode (every write renames a new file in), size and nanosecond modification
 * time (against a recycled inode number); undefined when there is none.
 */
export async function fileStamp(path: string): Promise<string | undefined> {
  try {
    const info = await stat(path, { bigint: true });
    return `${info.ino}:${info.size}:${info.mtimeNs}`;
  } catch {
    return undefined;
  }
}
