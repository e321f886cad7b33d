import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acquireDirLock, describeLockWait, type LockWait } from "./key-lock.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "grok-lock-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("acquireDirLock", () => {
  it("writes an owner file and removes the directory on release", async () => {
    const lockDir = join(dir, "k.lock");
    const lock = await acquireDirLock(lockDir);
    const owner = JSON.parse(await readFile(join(lockDir, "owner.json"), "utf8"));
    expect(owner).toMatchObject({
      pid: process.pid,
      hostname: expect.any(String),
      token: expect.any(String),
    });
    expect(lock.waited).toBe(false);
    await lock.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it("is kept alive by its heartbeat past the stale age", async () => {
    const lockDir = join(dir, "k.lock");
    const timings = { staleMs: 300, heartbeatMs: 20, pollMs: 10 };
    const first = await acquireDirLock(lockDir, timings);
    let secondIn = false;
    const second = acquireDirLock(lockDir, timings).then((lock) => {
      secondIn = true;
      return lock;
    });
    // Several stale ages pass while the first holder is alive and beating.
    await sleep(1000);
    expect(secondIn).toBe(false);
    expect(first.held()).toBe(true);
    await first.release();
    const lock = await second;
    expect(lock.waited).toBe(true);
    await lock.release();
  });

  it("is taken over when its heartbeat stops, and the old holder then leaves the new lock alone", async () => {
    const lockDir = join(dir, "k.lock");
    // A heartbeat far slower than the stale age stands for a holder whose event loop stalled.
    const stalled = await acquireDirLock(lockDir, { staleMs: 60_000, heartbeatMs: 60_000 });
    const taker = await acquireDirLock(lockDir, { staleMs: 50, pollMs: 10 });
    expect(taker.waited).toBe(true);
    await stalled.release();
    const owner = JSON.parse(await readFile(join(lockDir, "owner.json"), "utf8"));
    expect(owner.pid).toBe(process.pid);
    await taker.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it("says once, after a while, who holds the lock, since when and how long it has waited", async () => {
    const lockDir = join(dir, "k.lock");
    // Another process holds the lock: a live child process, recorded as the owner as a build would record itself.
    const holder = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)"], { stdio: "ignore" });
    const since = new Date(Date.now() - 5000).toISOString();
    await mkdir(lockDir);
    await writeFile(
      join(lockDir, "owner.json"),
      JSON.stringify({ pid: holder.pid, hostname: hostname(), time: since, token: "other" }),
    );
    const waits: LockWait[] = [];
    const started = Date.now();
    const waiting = acquireDirLock(lockDir, {
      pollMs: 20,
      longWaitMs: 200,
      label: "generation abc123",
      onLongWait: (wait) => waits.push(wait),
    });
    await sleep(600);
    expect(waits).toHaveLength(1);
    const [wait] = waits as [LockWait];
    expect(wait.owner).toEqual({ pid: holder.pid, hostname: hostname(), time: since });
    expect(wait.waitedMs).toBeGreaterThanOrEqual(200);
    expect(wait.waitedMs).toBeLessThan(Date.now() - started);
    expect(wait.heartbeatAgeMs).toBeLessThan(20_000);
    const line = describeLockWait(wait);
    expect(line).toContain("generation abc123");
    expect(line).toContain(`process ${holder.pid} on ${hostname()}`);
    expect(line).toContain(`since ${since}`);
    expect(line).toMatch(/\(5\.\d s ago\)|\(6\.\d s ago\)/);
    expect(line).toMatch(/waited 0\.[2-9] s so far/);
    expect(line).toContain("no heartbeat for 20 s");

    // The holder goes away: the waiter takes the lock over, having said it only once.
    holder.kill();
    const lock = await waiting;
    expect(lock.waited).toBe(true);
    expect(waits).toHaveLength(1);
    await lock.release();
  });

  it("says nothing when the wait is short", async () => {
    const lockDir = join(dir, "k.lock");
    const first = await acquireDirLock(lockDir);
    const waits: LockWait[] = [];
    const second = acquireDirLock(lockDir, { pollMs: 10, onLongWait: (wait) => waits.push(wait) });
    await sleep(100);
    await first.release();
    await (await second).release();
    expect(waits).toEqual([]);
  });

  it("words a holder whose owner file is not there yet", () => {
    const line = describeLockWait({
      lockDir: "/c/locks/manifest.lock",
      label: undefined,
      waitedMs: 2100,
      owner: undefined,
      heartbeatAgeMs: undefined,
      staleMs: 20_000,
    });
    expect(line).toContain("/c/locks/manifest.lock");
    expect(line).toContain("another process");
    expect(line).toContain("waited 2.1 s");
  });
});
