import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acquireDirLock } from "./key-lock.js";

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
});
