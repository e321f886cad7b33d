import { copyFile, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { GrokImageError } from "../errors.js";
import type { ManifestEntry } from "../types.js";
import { acquireDirLock, type DirLockOptions, lockDirFor } from "./key-lock.js";
import { type Manifest, ManifestSyntaxError, parseManifest, serializeManifest } from "./manifest-file.js";
import { writeFileAtomic } from "./write-file-atomic.js";

/**
 * `manifest.json` of one cache: an in-memory copy for lookups without I/O, and read-modify-write under the
 * manifest lock, starting from the file on disk so that concurrent commits of other processes survive.
 */
export class ManifestStore {
  readonly path: string;
  /** What was wrong with the file when it was last read (dropped entries). */
  problems: string[] = [];
  private entries: Manifest = new Map();
  /** Identity of the file last read; every write renames a new file in, so the inode changes. */
  private stamp: string | undefined;
  private readonly locksDir: string;
  private readonly options: ManifestStoreOptions;

  constructor(dir: string, locksDir: string, options: ManifestStoreOptions) {
    this.path = join(dir, "manifest.json");
    this.locksDir = locksDir;
    this.options = options;
  }

  get(key: string): ManifestEntry | undefined {
    return this.entries.get(key);
  }

  keys(): string[] {
    return [...this.entries.keys()].sort();
  }

  /** Re-reads the file when it changed since the last read (one stat otherwise). `force` always reads. */
  async refresh(force = false): Promise<void> {
    const stamp = await this.currentStamp();
    if (!force && stamp !== undefined && stamp === this.stamp) return;
    const { entries, problems } = await this.readFromDisk();
    this.entries = entries;
    this.problems = problems;
    this.stamp = stamp;
  }

  /** Applies `change` to the manifest on disk under the manifest lock and writes it back atomically. */
  async update(change: (entries: Manifest) => Promise<void>): Promise<void> {
    const lock = await acquireDirLock(lockDirFor(this.locksDir, "manifest"), {
      ...this.options.lock,
      // Held for milliseconds: poll briskly.
      pollMs: Math.min(this.options.lock?.pollMs ?? 25, 25),
      label: "manifest.json",
    });
    try {
      const { entries, problems } = await this.readFromDisk();
      await change(entries);
      // Entries were dropped as malformed: keep the file as it was before they vanish from it.
      if (problems.length > 0) await this.keepCorruptCopy().catch(() => {});
      await writeFileAtomic(this.path, serializeManifest(entries));
      this.entries = entries;
      this.problems = [];
      this.stamp = await this.currentStamp();
    } finally {
      await lock.release();
    }
  }

  private async currentStamp(): Promise<string | undefined> {
    try {
      const info = await stat(this.path, { bigint: true });
      return `${info.ino}:${info.size}:${info.mtimeNs}`;
    } catch {
      return undefined;
    }
  }

  private async readFromDisk(): Promise<{ entries: Manifest; problems: string[] }> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { entries: new Map(), problems: [] };
      throw error;
    }
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
