import { randomBytes } from "node:crypto";
import { open, readdir, rename, rm, stat, unlink, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { cacheAccessError } from "./cache-access-error.js";

/** Suffix of every temp file, so `sweepStaleTemps` can find leftovers of a killed process. */
const TEMP_SUFFIX = ".tmp";

/** Temp files older than this belong to a dead writer (no write takes an hour). */
const STALE_TEMP_MS = 60 * 60 * 1000;

let counter = 0;

/** A name no other writer (this process or another one) can pick: pid + counter + random. */
function tempPathFor(file: string): string {
  counter = (counter + 1) % 0x7fffffff;
  const unique = `${process.pid}.${counter}.${randomBytes(4).toString("hex")}`;
  // Same directory as the target, so the rename never crosses a file system.
  return join(dirname(file), `.${basename(file)}.${unique}${TEMP_SUFFIX}`);
}

export interface WriteFileAtomicOptions {
  /**
   * `"keep"`: when the target already exists, leave it and report success. For content-addressed files, where
   * two writers of one name produce identical bytes. @default "overwrite"
   */
  ifExists?: "overwrite" | "keep";
}

/**
 * Writes `data` to `file` so that a reader sees either the old file, or the complete new one, never a prefix:
 * write a unique temp file next to it (`wx`, so it never clobbers another writer's temp), then `rename`.
 * The temp file is removed when anything fails. No fsync: every reader verifies what it reads (hash or size),
 * so a file torn by a power loss is detected and treated as a miss rather than shipped. An array of chunks is
 * written in order with one vectored write, so large files need not be joined in memory first. A folder that
 * refuses the write (no permission, read-only, full disk, a file in its place) rejects with GROK_CACHE_UNWRITABLE.
 */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array | readonly Uint8Array[],
  options: WriteFileAtomicOptions = {},
): Promise<void> {
  // A target that is there already is kept without writing a byte (a rename would replace it on POSIX): every
  // cached build opens the cache, and its `.gitignore`, which a user may have edited, is left as it is.
  if (options.ifExists === "keep" && (await exists(file))) return;
  const temp = tempPathFor(file);
  try {
    if (Array.isArray(data)) await writeChunks(temp, data);
    else await writeFile(temp, data as string | Uint8Array, { flag: "wx" });
    await renameWithRetry(temp, file, options.ifExists === "keep");
  } catch (error) {
    await unlink(temp).catch(() => {});
    // A folder that refuses writes (permissions, read-only, full disk) is said as such, naming the file.
    throw cacheAccessError(error, dirname(file), file) ?? error;
  }
}

async function writeChunks(temp: string, chunks: readonly Uint8Array[]): Promise<void> {
  const handle = await open(temp, "wx");
  try {
    const expected = chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0);
    // libuv completes partial writes and splits at IOV_MAX itself; a short count means the disk refused the rest.
    const { bytesWritten } = await handle.writev(chunks as Uint8Array[]);
    if (bytesWritten !== expected) throw new Error(`Wrote ${bytesWritten} of ${expected} bytes to ${temp}.`);
  } finally {
    await handle.close();
  }
}

/**
 * Windows refuses a rename onto a file another process has open (EPERM/EBUSY/EACCES) for a short while;
 * retry a few times. When the target may be kept, an existing target ends the attempt successfully.
 */
async function renameWithRetry(from: string, to: string, keepExisting: boolean): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await rename(from, to);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const transient = code === "EPERM" || code === "EBUSY" || code === "EACCES" || code === "EEXIST";
      if (!transient) throw error;
      if (keepExisting && (await exists(to))) {
        await unlink(from).catch(() => {});
        return;
      }
      if (attempt >= 10) throw error;
      await sleep(20 * (attempt + 1));
    }
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes temp files that a killed writer left in `dir` (not recursive). Young temps are left alone: they may
 * belong to a live writer in another process. Returns how many were removed.
 */
export async function sweepStaleTemps(
  dir: string,
  maxAgeMs = STALE_TEMP_MS,
  now = Date.now(),
): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    if (!name.endsWith(TEMP_SUFFIX)) continue;
    const path = join(dir, name);
    try {
      const info = await stat(path);
      if (info.isFile() && now - info.mtimeMs > maxAgeMs) {
        await rm(path, { force: true });
        removed++;
      }
    } catch {
      // Removed by another sweeper meanwhile.
    }
  }
  return removed;
}
