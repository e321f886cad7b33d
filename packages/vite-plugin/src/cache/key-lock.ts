import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { GrokImageError } from "../errors.js";
import { cacheAccessError } from "./cache-access-error.js";

/*
 * A cross-process lock that is a directory: `mkdir` either creates it or fails with EEXIST, atomically, on
 * every local file system and on NFS. The holder refreshes the directory's mtime (the heartbeat); a lock whose
 * heartbeat stopped (the holder was killed) or whose holder pid is gone on this host is taken over.
 * The same scheme as proper-lockfile, kept small so that it can carry an owner file and report waiting.
 */

/** Owner file inside a lock directory: who holds it, for stale detection and for people reading the cache. */
export interface LockOwner {
  pid: number;
  hostname: string;
  /** ISO-8601, when the lock was taken. */
  time: string;
  /** Unique per acquisition, so a holder never releases a lock it lost to a takeover. */
  token: string;
}

export interface DirLockOptions {
  /** A lock whose heartbeat is older than this is stale. @default 20_000 */
  staleMs?: number;
  /** How often the holder refreshes the heartbeat. @default 5_000 */
  heartbeatMs?: number;
  /** Sleep between attempts while another holder has it. @default 100 */
  pollMs?: number;
  /** Stops waiting (rejects with GROK_ABORTED). */
  signal?: AbortSignal;
  /** Called once, when the first attempt finds the lock held by someone else. */
  onWait?: () => void;
  /**
   * Called once, when the lock has been held by someone else for `longWaitMs`: who holds it and since when, so a
   * build that waits on another one (a generation can take minutes) says so instead of stalling silently.
   * `describeLockWait` words it.
   */
  onLongWait?: (wait: LockWait) => void;
  /** @default 2_000 */
  longWaitMs?: number;
  /** What the lock protects, for the abort message. */
  label?: string;
}

/** A wait for a lock someone else holds, as `onLongWait` reports it. */
export interface LockWait {
  readonly lockDir: string;
  readonly label: string | undefined;
  /** How long this caller has waited so far. */
  readonly waitedMs: number;
  /** Who holds the lock, from its owner file; undefined when it could not be read (being written or released). */
  readonly owner: Pick<LockOwner, "pid" | "hostname" | "time"> | undefined;
  /** Age of the holder's last heartbeat; the lock is taken over once it passes `staleMs`. */
  readonly heartbeatAgeMs: number | undefined;
  readonly staleMs: number;
}

export interface HeldLock {
  /** False when another process took the lock over (our heartbeat stopped for longer than `staleMs`). */
  readonly held: () => boolean;
  /** True when the first attempt found the lock taken (someone else was working on it). */
  readonly waited: boolean;
  release(): Promise<void>;
}

const OWNER_FILE = "owner.json";
const STALE_PREFIX = ".stale-";
const host = hostname();

/** Acquires the lock directory `lockDir` (its parent must exist), waiting while another live holder has it. */
export async function acquireDirLock(lockDir: string, options: DirLockOptions = {}): Promise<HeldLock> {
  const staleMs = options.staleMs ?? 20_000;
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  const pollMs = options.pollMs ?? 100;
  const token = randomBytes(12).toString("hex");
  const longWaitMs = options.longWaitMs ?? 2_000;
  let waited = false;
  let waitingSince = 0;
  let longWaitReported = options.onLongWait === undefined;
  for (;;) {
    throwIfAborted(options.signal, options.label ?? lockDir);
    try {
      await mkdir(lockDir);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw cacheAccessError(error, dirname(dirname(lockDir)), lockDir) ?? error;
      }
    }
    if (!waited) {
      waited = true;
      waitingSince = Date.now();
      options.onWait?.();
    }
    if (!longWaitReported && Date.now() - waitingSince >= longWaitMs) {
      longWaitReported = true;
      options.onLongWait?.(await lockWait(lockDir, options.label, Date.now() - waitingSince, staleMs));
    }
    if (!(await takeOverIfStale(lockDir, staleMs))) {
      // Jitter, so waiters on one lock do not retry in lockstep.
      await sleepOrAbort(pollMs * (0.5 + Math.random()), options.signal, options.label ?? lockDir);
    }
  }

  const owner: LockOwner = { pid: process.pid, hostname: host, time: new Date().toISOString(), token };
  try {
    await writeFile(join(lockDir, OWNER_FILE), `${JSON.stringify(owner)}\n`);
  } catch (error) {
    await rm(lockDir, { recursive: true, force: true });
    throw cacheAccessError(error, dirname(dirname(lockDir)), lockDir) ?? error;
  }

  let held = true;
  const timer = setInterval(() => {
    void heartbeat();
  }, heartbeatMs);
  const heartbeat = async () => {
    // A holder that lost its lock (event loop stalled past `staleMs`, someone took over) must notice, not
    // refresh the new holder's directory.
    const current = await readOwner(lockDir);
    if (current?.token !== token) {
      held = false;
      clearInterval(timer);
      return;
    }
    const now = new Date();
    await utimes(lockDir, now, now).catch(() => {});
  };
  // The heartbeat must not keep a finished process alive.
  timer.unref();

  return {
    held: () => held,
    waited,
    async release() {
      clearInterval(timer);
      if (!held) return;
      held = false;
      // Only remove the lock if it is still ours: after a takeover, the directory belongs to the new holder.
      const current = await readOwner(lockDir);
      if (current?.token === token) await rm(lockDir, { recursive: true, force: true });
    },
  };
}

async function readOwner(lockDir: string): Promise<LockOwner | undefined> {
  try {
    const parsed = JSON.parse(await readFile(join(lockDir, OWNER_FILE), "utf8")) as Partial<LockOwner>;
    if (typeof parsed.pid === "number" && typeof parsed.token === "string") return parsed as LockOwner;
  } catch {
    // Missing (the owner is between mkdir and writing it) or unreadable.
  }
  return undefined;
}

async function lockWait(
  lockDir: string,
  label: string | undefined,
  waitedMs: number,
  staleMs: number,
): Promise<LockWait> {
  const owner = await readOwner(lockDir);
  const mtimeMs = await stat(lockDir).then(
    (info) => info.mtimeMs,
    () => undefined,
  );
  return {
    lockDir,
    label,
    waitedMs,
    owner: owner && { pid: owner.pid, hostname: owner.hostname, time: owner.time },
    heartbeatAgeMs: mtimeMs === undefined ? undefined : Math.max(0, Date.now() - mtimeMs),
    staleMs,
  };
}

/**
 * One line for a long lock wait: what is locked, who holds it and since when, how long this build has waited,
 * and what happens next.
 */
export function describeLockWait(wait: LockWait, now = Date.now()): string {
  const what = wait.label ?? wait.lockDir;
  const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  let holder = "another process (its owner file is not readable yet)";
  if (wait.owner) {
    const since = Date.parse(wait.owner.time);
    const held = Number.isNaN(since)
      ? ""
      : ` since ${wait.owner.time} (${seconds(Math.max(0, now - since))} ago)`;
    const self = wait.owner.hostname === host && wait.owner.pid === process.pid ? ", this process" : "";
    holder = `process ${wait.owner.pid} on ${wait.owner.hostname}${self}${held}`;
  }
  return (
    `Waiting for the cache lock of ${what}, held by ${holder}; waited ${seconds(wait.waitedMs)} so far. ` +
    "Another build or `grok-image generate` is working on it: this one goes on as soon as it is released, or " +
    `takes it over if its holder stops (no heartbeat for ${seconds(wait.staleMs)}).`
  );
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes `lockDir` if its holder is gone. Two waiters may decide so at once; the takeover therefore renames
 * the directory to a name derived from the stale owner's token, which only one of them can do, and the loser
 * finds either the winner's fresh lock (EEXIST on mkdir, keep waiting) or nothing to rename.
 */
async function takeOverIfStale(lockDir: string, staleMs: number): Promise<boolean> {
  let mtimeMs: number;
  try {
    mtimeMs = (await stat(lockDir)).mtimeMs;
  } catch {
    return true; // Released meanwhile: retry mkdir at once.
  }
  const owner = await readOwner(lockDir);
  const heartbeatStopped = Date.now() - mtimeMs > staleMs;
  const holderDead = owner !== undefined && owner.hostname === host && !isProcessAlive(owner.pid);
  if (!heartbeatStopped && !holderDead) return false;

  const grave = `${lockDir}${STALE_PREFIX}${owner?.token ?? `unowned-${Math.floor(mtimeMs)}`}`;
  try {
    await rename(lockDir, grave);
  } catch {
    return false; // Another waiter took it over first.
  }
  // If the directory changed hands between our check and the rename, we moved a live lock: put it back.
  const moved = await readOwner(grave);
  if (owner !== undefined && moved?.token !== owner.token) {
    await rename(grave, lockDir).catch(() => {});
    return false;
  }
  await rm(grave, { recursive: true, force: true });
  return true;
}

/** Removes takeover leftovers (`*.lock.stale-*`) older than `maxAgeMs` from the locks directory. */
export async function sweepStaleLockGraves(locksDir: string, maxAgeMs = 60_000): Promise<void> {
  let names: string[];
  try {
    names = await readdir(locksDir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.includes(STALE_PREFIX)) continue;
    const path = join(locksDir, name);
    const info = await stat(path).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > maxAgeMs) await rm(path, { recursive: true, force: true });
  }
}

/** The error of a wait for a lock (in this process or across processes) that `signal` stopped. */
export function lockWaitAborted(signal: AbortSignal, label: string): GrokImageError {
  return new GrokImageError("GROK_ABORTED", `Stopped waiting for the cache lock of ${label}: aborted.`, {
    cause: signal.reason,
  });
}

function throwIfAborted(signal: AbortSignal | undefined, label: string): void {
  if (signal?.aborted) throw lockWaitAborted(signal, label);
}

async function sleepOrAbort(ms: number, signal: AbortSignal | undefined, label: string): Promise<void> {
  try {
    await sleep(ms, undefined, signal ? { signal } : undefined);
  } catch {
    throwIfAborted(signal, label);
  }
}

/** The lock directory's name for `name` inside `locksDir`. */
export function lockDirFor(locksDir: string, name: string): string {
  return join(locksDir, `${name}.lock`);
}
