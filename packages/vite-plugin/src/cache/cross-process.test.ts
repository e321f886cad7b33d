import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openCache } from "./image-cache.js";
import { ManifestStore } from "./manifest-store.js";

/*
 * Real processes sharing one cache directory. The workers run this package's TypeScript sources directly with
 * Node's type stripping; a resolve hook maps the `.js` specifiers of the sources to their `.ts` files.
 */

const cacheModule = pathToFileURL(fileURLToPath(new URL("./image-cache.ts", import.meta.url))).href;
const sharpModule = pathToFileURL(createRequire(import.meta.url).resolve("sharp")).href;

const HOOK = `
import { registerHooks } from "node:module";
registerHooks({
  resolve(specifier, context, next) {
    try {
      return next(specifier, context);
    } catch (error) {
      if (specifier.startsWith(".") && specifier.endsWith(".js")) return next(specifier.slice(0, -3) + ".ts", context);
      throw error;
    }
  },
});
`;

const WORKER = `
import { existsSync } from "node:fs";
import { appendFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import sharp from ${JSON.stringify(sharpModule)};
import { openCache } from ${JSON.stringify(cacheModule)};

const [command, dir, ...args] = process.argv.slice(2);
const cache = await openCache(dir, { lock: { staleMs: 2000, heartbeatMs: 200, pollMs: 20 } });
const say = (line) => process.stdout.write(line + "\\n");

if (command === "commit") {
  const [prefix, count] = args;
  for (let i = 0; i < Number(count); i++) {
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: { r: i, g: prefix.length, b: 7 } } }).png().toBuffer();
    const record = await cache.storeOriginal(png);
    const key = prefix + i;
    await cache.commit(key, { model: "m", prompt: key, n: 1, ratio: null, resolution: null, v: null, taskId: "t-" + key, createdAt: "2025-01-01T00:00:00.000Z", originals: [record] });
  }
  say("done");
} else if (command === "hold") {
  // Takes the key lock, reports it, and holds it until the file args[2] exists (or forever when args[2] is "-").
  const [key, log, go] = args;
  await cache.withKeyLock(key, async () => {
    await appendFile(log, args[3] + "-in\\n");
    say("in");
    while (go === "-" || !existsSync(go)) await sleep(20);
    await appendFile(log, args[3] + "-out\\n");
  }, { onWait: () => say("waiting") });
  say("done");
}
`;

let dir: string;
let scripts: string;
const children: ChildProcess[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "grok-xproc-"));
  scripts = join(dir, "scripts");
  await mkdir(scripts);
  await writeFile(join(scripts, "hook.mjs"), HOOK);
  await writeFile(join(scripts, "worker.mjs"), WORKER);
});

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  await rm(dir, { recursive: true, force: true });
});

interface Worker {
  child: ChildProcess;
  /** Resolves when the worker printed `line`. */
  said(line: string): Promise<void>;
  exited: Promise<number | null>;
}

function worker(...args: string[]): Worker {
  const child = spawn(
    process.execPath,
    ["--no-warnings", "--import", join(scripts, "hook.mjs"), join(scripts, "worker.mjs"), ...args],
    { cwd: fileURLToPath(new URL(".", import.meta.url)), stdio: ["ignore", "pipe", "pipe"] },
  );
  children.push(child);
  let out = "";
  let err = "";
  const waiters: Array<{ line: string; resolve: () => void }> = [];
  child.stdout?.on("data", (chunk) => {
    out += chunk;
    for (const w of waiters) if (out.split("\n").includes(w.line)) w.resolve();
  });
  child.stderr?.on("data", (chunk) => {
    err += chunk;
  });
  const exited = once(child, "exit").then(([code]) => {
    if (code !== 0 && code !== null) throw new Error(`worker ${args.join(" ")} exited ${code}: ${err}`);
    return code as number | null;
  });
  return {
    child,
    exited,
    said: (line) =>
      new Promise<void>((resolve, reject) => {
        if (out.split("\n").includes(line)) return resolve();
        waiters.push({ line, resolve });
        exited.then(() => reject(new Error(`worker exited before saying ${line}: ${out} ${err}`)), reject);
      }),
  };
}

describe("two processes sharing one cache", () => {
  it("keep both processes' commits of different keys", async () => {
    await (await openCache(dir)).refresh();
    const a = worker("commit", dir, "a", "12");
    const b = worker("commit", dir, "bb", "12");
    await Promise.all([a.exited, b.exited]);
    const cache = await openCache(dir);
    expect(cache.keys()).toHaveLength(24);
    expect(cache.keys()).toContain("a11");
    expect(cache.keys()).toContain("bb11");
    expect((await cache.verify()).problems).toEqual([]);
  });

  it("re-read the manifest after the other process committed, and only then", async () => {
    await openCache(dir);
    const manifest = new ManifestStore(dir, join(dir, "locks"), {});
    await manifest.refresh();
    await manifest.refresh();
    expect(manifest.counters.reads).toBe(0);
    await worker("commit", dir, "w", "3").exited;
    await manifest.refresh();
    expect(manifest.counters.reads).toBe(1);
    expect(manifest.keys()).toEqual(["w0", "w1", "w2"]);
    await manifest.refresh();
    expect(manifest.counters.reads).toBe(1);
  });

  it("serialise withKeyLock: the second waits until the first releases", async () => {
    const log = join(dir, "log.txt");
    const go = join(dir, "go");
    const first = worker("hold", dir, "k1", log, go, "A");
    await first.said("in");
    const second = worker("hold", dir, "k1", log, go, "B");
    await second.said("waiting");
    expect(await readFile(log, "utf8")).toBe("A-in\n");
    await writeFile(go, "");
    await Promise.all([first.exited, second.exited]);
    expect(await readFile(log, "utf8")).toBe("A-in\nA-out\nB-in\nB-out\n");
  });

  it("take over the lock of a killed holder", async () => {
    const log = join(dir, "log.txt");
    const holder = worker("hold", dir, "k2", log, "-", "A");
    await holder.said("in");
    holder.child.kill("SIGKILL");
    await once(holder.child, "exit");
    const cache = await openCache(dir);
    const waited: string[] = [];
    const result = await cache.withKeyLock("k2", async () => "mine", { onWait: () => waited.push("wait") });
    expect(result).toBe("mine");
    expect(waited).toEqual(["wait"]);
  });

  it("take over a lock whose heartbeat stopped on another host", async () => {
    const lockDir = join(dir, "locks", "key-k3.lock");
    await mkdir(lockDir, { recursive: true });
    await writeFile(
      join(lockDir, "owner.json"),
      JSON.stringify({ pid: process.pid, hostname: `not-${hostname()}`, time: "x", token: "other" }),
    );
    const old = new Date(Date.now() - 60_000);
    await utimes(lockDir, old, old);
    const cache = await openCache(dir, { lock: { staleMs: 20_000 } });
    expect(await cache.withKeyLock("k3", async () => "taken over")).toBe("taken over");
    await expect(stat(lockDir)).rejects.toMatchObject({ code: "ENOENT" });
    expect((await readdir(join(dir, "locks"))).filter((n) => n.includes("k3"))).toEqual([]);
  });

  it("keep waiting on a live lock of another host until aborted", async () => {
    const lockDir = join(dir, "locks", "key-k4.lock");
    await mkdir(lockDir, { recursive: true });
    await writeFile(
      join(lockDir, "owner.json"),
      JSON.stringify({ pid: 1, hostname: `not-${hostname()}`, time: "x", token: "other" }),
    );
    const cache = await openCache(dir, { lock: { staleMs: 600_000, pollMs: 10 } });
    const controller = new AbortController();
    let ran = false;
    const attempt = cache.withKeyLock(
      "k4",
      async () => {
        ran = true;
      },
      { signal: controller.signal, onWait: () => controller.abort() },
    );
    await expect(attempt).rejects.toMatchObject({ code: "GROK_ABORTED" });
    expect(ran).toBe(false);
    expect(JSON.parse(await readFile(join(lockDir, "owner.json"), "utf8")).token).toBe("other");
  });
});
