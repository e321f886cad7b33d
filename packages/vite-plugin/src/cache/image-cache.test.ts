import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ManifestEntry, OriginalRecord } from "../types.js";
import { sha256Hex } from "./hash-file.js";
import { openCache } from "./image-cache.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "grok-cache-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function image(width: number, height: number, r: number, format: "png" | "jpeg" | "webp" = "png") {
  return sharp({ create: { width, height, channels: 3, background: { r, g: 90, b: 40 } } })
    .toFormat(format)
    .toBuffer();
}

function entry(prompt: string, originals: OriginalRecord[]): ManifestEntry {
  return {
    model: "grok-imagine/text-to-image-lite",
    prompt,
    n: originals.length,
    ratio: null,
    resolution: null,
    v: null,
    taskId: `task-${prompt}`,
    createdAt: "2025-01-01T00:00:00.000Z",
    originals,
  };
}

describe("originals", () => {
  it("are stored content-addressed, described from their header and read back verified", async () => {
    const cache = await openCache(dir);
    const bytes = await image(30, 20, 10, "jpeg");
    const record = await cache.storeOriginal(bytes);
    expect(record).toEqual({
      sha256: sha256Hex(bytes),
      width: 30,
      height: 20,
      format: "jpeg",
      bytes: bytes.length,
    });
    expect(cache.originalPath(record)).toBe(join(dir, "originals", `${record.sha256}.jpg`));
    expect((await cache.readOriginal(record)).equals(bytes)).toBe(true);
    // Storing the same bytes again is a no-op success.
    expect(await cache.storeOriginal(bytes)).toEqual(record);
    expect(await readdir(join(dir, "originals"))).toEqual([`${record.sha256}.jpg`]);
  });

  it("replaces a damaged file of the same name when the bytes are stored again", async () => {
    const cache = await openCache(dir);
    const bytes = await image(12, 12, 200, "jpeg");
    const record = await cache.storeOriginal(bytes);
    await writeFile(cache.originalPath(record), "truncated");
    await cache.storeOriginal(bytes);
    expect((await readFile(cache.originalPath(record))).equals(bytes)).toBe(true);
  });

  it("rejects bytes that are not an image", async () => {
    const cache = await openCache(dir);
    await expect(cache.storeOriginal(Buffer.from("<html>expired</html>"))).rejects.toMatchObject({
      code: "GROK_DOWNLOAD_REJECTED",
    });
    expect(await readdir(join(dir, "originals"))).toEqual([]);
  });

  it("report a corrupt original in readOriginal, checkEntry and verify, naming the file and key", async () => {
    const cache = await openCache(dir);
    const record = await cache.storeOriginal(await image(8, 8, 1));
    await cache.commit("k1", entry("one", [record]));
    const file = cache.originalPath(record);
    const damaged = Buffer.from(await readFile(file));
    damaged[damaged.length - 5] = (damaged[damaged.length - 5] as number) ^ 0xff;
    await writeFile(file, damaged);

    const error = await cache.readOriginal(record).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "GROK_CACHE_CORRUPT" });
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toContain("k1");
    expect((error as { hint: string }).hint).toContain("grok-image verify");

    const check = await cache.checkEntry("k1");
    expect(check.ok).toBe(false);
    expect(check.problems[0]).toContain("does not match its sha256");

    const report = await cache.verify();
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([expect.objectContaining({ kind: "original", file, key: "k1" })]);
  });

  it("report a missing original", async () => {
    const cache = await openCache(dir);
    const record = await cache.storeOriginal(await image(8, 8, 2));
    await cache.commit("k1", entry("one", [record]));
    await rm(cache.originalPath(record));
    await expect(cache.readOriginal(record)).rejects.toMatchObject({ code: "GROK_CACHE_CORRUPT" });
    expect((await cache.checkEntry("k1")).problems[0]).toContain("is missing");
    expect((await cache.verify()).problems[0]?.message).toContain("is missing");
  });
});

describe("manifest", () => {
  it("is sorted, pretty, in a fixed field order, and reloads equal", async () => {
    const cache = await openCache(dir);
    const a = await cache.storeOriginal(await image(8, 8, 3));
    const b = await cache.storeOriginal(await image(8, 8, 4));
    // Fields deliberately out of order: the file must not depend on how the caller built the object.
    const { originals, createdAt, ...rest } = entry("zeta", [b]);
    const scrambled = { originals, createdAt, ...rest };
    await cache.commit("ffff", scrambled);
    await cache.commit("0000", entry("alpha", [a]));
    const text = await readFile(join(dir, "manifest.json"), "utf8");
    expect(text.endsWith("}\n")).toBe(true);
    const parsed = JSON.parse(text);
    expect(Object.keys(parsed)).toEqual(["0000", "ffff"]);
    expect(Object.keys(parsed.ffff)).toEqual([
      "model",
      "prompt",
      "n",
      "ratio",
      "resolution",
      "v",
      "taskId",
      "createdAt",
      "originals",
    ]);
    expect(Object.keys(parsed.ffff.originals[0])).toEqual(["sha256", "width", "height", "format", "bytes"]);
    expect(text).toBe(`${JSON.stringify(parsed, null, 2)}\n`);
    expect(text).not.toContain(dir);

    const reopened = await openCache(dir);
    expect(reopened.keys()).toEqual(["0000", "ffff"]);
    expect(reopened.lookup("0000")).toEqual(entry("alpha", [a]));
  });

  it("refuses to commit an entry whose originals are not on disk", async () => {
    const cache = await openCache(dir);
    const record = await cache.storeOriginal(await image(8, 8, 5));
    await rm(cache.originalPath(record));
    await expect(cache.commit("k", entry("p", [record]))).rejects.toMatchObject({
      code: "GROK_CACHE_CORRUPT",
    });
    expect(cache.lookup("k")).toBeUndefined();
  });

  it("sees commits of another cache instance after refresh", async () => {
    const one = await openCache(dir);
    const two = await openCache(dir);
    const record = await one.storeOriginal(await image(8, 8, 6));
    await one.commit("k", entry("p", [record]));
    expect(two.lookup("k")).toBeUndefined();
    await two.refresh();
    expect(two.lookup("k")?.taskId).toBe("task-p");
  });

  it("reports an unparseable manifest without touching it, or keeps a copy before resetting", async () => {
    const conflict = '<<<<<<< HEAD\n{"a": 1}\n=======\n{}\n>>>>>>> other\n';
    await writeFile(join(dir, "manifest.json"), conflict);
    const error = await openCache(dir).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "GROK_CACHE_CORRUPT" });
    expect((error as Error).message).toContain("manifest.json");
    expect(await readFile(join(dir, "manifest.json"), "utf8")).toBe(conflict);

    const cache = await openCache(dir, { onCorruptManifest: "reset" });
    expect(cache.keys()).toEqual([]);
    const copies = (await readdir(dir)).filter((n) => n.startsWith("manifest.json.corrupt-"));
    expect(copies).toHaveLength(1);
    expect(await readFile(join(dir, copies[0] as string), "utf8")).toBe(conflict);
  });

  it("drops a malformed entry as a miss, reports it, and keeps a copy before rewriting", async () => {
    const good = await (await openCache(dir)).storeOriginal(await image(8, 8, 7));
    const original = `${JSON.stringify({ bad: { model: 1 }, good: entry("g", [good]) }, null, 2)}\n`;
    await writeFile(join(dir, "manifest.json"), original);
    const cache = await openCache(dir);
    expect(cache.keys()).toEqual(["good"]);
    expect(cache.manifestProblems[0]).toContain("entry bad");
    expect((await cache.verify()).ok).toBe(false);
    await cache.commit("good", entry("g", [good]));
    const copies = (await readdir(dir)).filter((n) => n.startsWith("manifest.json.corrupt-"));
    expect(await readFile(join(dir, copies[0] as string), "utf8")).toBe(original);
    expect(cache.manifestProblems).toEqual([]);
  });
});

describe("concurrent commits in one process", () => {
  it("each resolve only once their entry is on disk for a fresh cache, with their pending record gone", async () => {
    const cache = await openCache(dir);
    const record = await cache.storeOriginal(await image(8, 8, 13));
    const keys = Array.from({ length: 24 }, (_, i) => `key${i}`);
    for (const key of keys) {
      await cache.writePending(key, {
        taskId: `task-${key}`,
        generation: { model: "m", tier: "lite", prompt: key, n: 1, ratio: null, resolution: null, v: null },
        submittedAt: "2025-01-01T00:00:00.000Z",
        attempt: 1,
      });
    }
    const seen = await Promise.all(
      keys.map(async (key) => {
        await cache.commit(key, entry(key, [record]));
        const fresh = await openCache(dir);
        return { key, onDisk: fresh.lookup(key)?.taskId, pending: await fresh.readPending(key) };
      }),
    );
    for (const { key, onDisk, pending } of seen) {
      expect(onDisk).toBe(`task-${key}`);
      expect(pending).toBeUndefined();
    }
    expect((await openCache(dir)).keys()).toEqual([...keys].sort());
    expect(await readdir(join(dir, "locks"))).toEqual([]);
  });

  it("keeps the others when one commit of the group is refused", async () => {
    const cache = await openCache(dir);
    const good = await cache.storeOriginal(await image(8, 8, 14));
    const gone = await cache.storeOriginal(await image(8, 8, 15));
    await rm(cache.originalPath(gone));
    const results = await Promise.allSettled([
      cache.commit("a", entry("a", [good])),
      cache.commit("bad", entry("bad", [gone])),
      cache.commit("c", entry("c", [good])),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((await openCache(dir)).keys()).toEqual(["a", "c"]);
  });
});

describe("remove", () => {
  it("drops entries and deletes only originals no remaining entry references", async () => {
    const cache = await openCache(dir);
    const shared = await cache.storeOriginal(await image(8, 8, 8));
    const own = await cache.storeOriginal(await image(8, 8, 9));
    await cache.commit("a", entry("a", [shared, own]));
    await cache.commit("b", entry("b", [shared]));
    await cache.remove(["a"]);
    expect(cache.keys()).toEqual(["b"]);
    expect(await readdir(join(dir, "originals"))).toEqual([`${shared.sha256}.png`]);
    expect((await openCache(dir)).keys()).toEqual(["b"]);
  });
});

describe("pending journal", () => {
  it("round-trips, lists, and is removed by commit", async () => {
    const cache = await openCache(dir);
    const generation = {
      model: "grok-imagine/text-to-image-lite",
      tier: "lite" as const,
      prompt: "p",
      n: 1,
      ratio: null,
      resolution: null,
      v: null,
    };
    const record = { taskId: "task-1", generation, submittedAt: "2025-01-01T00:00:00.000Z", attempt: 1 };
    await cache.writePending("k", record);
    expect(await cache.readPending("k")).toEqual(record);
    expect(await cache.listPending()).toEqual([{ key: "k", record }]);
    const original = await cache.storeOriginal(await image(8, 8, 10));
    await cache.commit("k", entry("p", [original]));
    expect(await cache.readPending("k")).toBeUndefined();
    expect(await cache.listPending()).toEqual([]);
  });

  it("moves an unreadable record aside instead of failing", async () => {
    const cache = await openCache(dir);
    await writeFile(join(dir, "pending", "k.json"), '{"taskId": "task-9"');
    expect(await cache.readPending("k")).toBeUndefined();
    const names = await readdir(join(dir, "pending"));
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/^k\.json\.corrupt-/);
  });

  it("rejects keys that could escape the directory", async () => {
    const cache = await openCache(dir);
    await expect(cache.readPending("../manifest")).rejects.toThrow(TypeError);
  });
});

describe("variants", () => {
  it("round-trip through their sidecar, and are absent when the file is missing", async () => {
    const cache = await openCache(dir);
    const data = await sharp(await image(10, 6, 11))
      .webp()
      .toBuffer();
    expect(await cache.checkVariant("v1")).toEqual({ state: "absent" });
    await cache.writeVariant("v1", data, {
      width: 10,
      height: 6,
      format: "webp",
      bytes: 0,
      placeholder: "data:x",
    });
    expect(await cache.checkVariant("v1")).toEqual({
      state: "intact",
      meta: {
        width: 10,
        height: 6,
        format: "webp",
        bytes: data.length,
        placeholder: "data:x",
        sha256: sha256Hex(data),
      },
    });
    expect(cache.variantPath("v1", "webp")).toBe(join(dir, "variants", "v1.webp"));
    expect((await cache.verify()).problems).toEqual([]);
    await rm(cache.variantPath("v1", "webp"));
    expect(await cache.checkVariant("v1")).toEqual({ state: "absent" });
  });

  it("are damaged when cut short or overwritten with other bytes of the same size, and verify says so", async () => {
    const cache = await openCache(dir);
    const data = await sharp(await image(12, 8, 200))
      .webp()
      .toBuffer();
    const meta = { width: 12, height: 8, format: "webp" as const, bytes: data.length };
    const file = cache.variantPath("v2", "webp");

    await cache.writeVariant("v2", data, meta);
    await writeFile(file, data.subarray(0, 10));
    expect(await cache.checkVariant("v2")).toEqual({
      state: "damaged",
      file,
      problem: `has 10 bytes instead of ${data.length}`,
    });

    await writeFile(file, randomBytes(data.length));
    expect(await cache.checkVariant("v2")).toEqual({
      state: "damaged",
      file,
      problem: "does not match its sha256",
    });
    const report = await cache.verify();
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      expect.objectContaining({ kind: "variant", file, message: expect.stringContaining("sha256") }),
    ]);

    await writeFile(join(dir, "variants", "v2.json"), "{ torn");
    expect(await cache.checkVariant("v2")).toMatchObject({
      state: "damaged",
      problem: "is not a valid variant sidecar",
    });
  });

  it("without a recorded sha256 (an older sidecar) are absent, so they are derived again and hashed", async () => {
    const cache = await openCache(dir);
    const data = await sharp(await image(6, 6, 90))
      .png()
      .toBuffer();
    await writeFile(cache.variantPath("v3", "png"), data);
    await writeFile(
      join(dir, "variants", "v3.json"),
      JSON.stringify({ width: 6, height: 6, format: "png", bytes: data.length }),
    );
    expect(await cache.checkVariant("v3")).toEqual({ state: "absent" });
    expect((await cache.verify()).notes.join("\n")).toContain("records no sha256");
  });
});

describe("withKeyLock in one process", () => {
  it("runs holders of one key one after the other, and re-reads the manifest first", async () => {
    const cache = await openCache(dir);
    const other = await openCache(dir);
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const waits: string[] = [];
    const first = cache.withKeyLock("k", async () => {
      order.push("first-in");
      const record = await other.storeOriginal(await image(8, 8, 12));
      await other.commit("k", entry("p", [record]));
      await gate;
      order.push("first-out");
    });
    const second = cache.withKeyLock(
      "k",
      async () => {
        order.push("second-in");
        return cache.lookup("k")?.taskId;
      },
      { onWait: () => waits.push("second") },
    );
    expect(waits).toEqual(["second"]);
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await first;
    expect(await second).toBe("task-p");
    expect(order).toEqual(["first-in", "first-out", "second-in"]);
    expect(await readdir(join(dir, "locks"))).toEqual([]);
  });

  it("lets the next holder run after one failed", async () => {
    const cache = await openCache(dir);
    const failing = cache.withKeyLock("k", async () => {
      throw new Error("boom");
    });
    const next = cache.withKeyLock("k", async () => "ran");
    await expect(failing).rejects.toThrow("boom");
    expect(await next).toBe("ran");
  });
});

describe("openCache", () => {
  it("creates the layout with a .gitignore for per-machine files", async () => {
    await openCache(join(dir, "nested", ".grok-images"));
    const root = join(dir, "nested", ".grok-images");
    expect((await readdir(root)).sort()).toEqual([".gitignore", "locks", "originals", "pending", "variants"]);
    expect(await readFile(join(root, ".gitignore"), "utf8")).toContain("locks/");
  });

  it("leaves the temp files of killed writers for the first write to sweep, not every open", async () => {
    await openCache(dir);
    const hourAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    const leftovers = [
      join(dir, ".manifest.json.1.1.abcd.tmp"),
      join(dir, "variants", ".0123456789abcdef0123456789abcdef.webp.1.2.abcd.tmp"),
      join(dir, "originals", ".feed.png.1.3.abcd.tmp"),
    ];
    for (const file of leftovers) {
      await writeFile(file, "torn");
      await utimes(file, hourAgo, hourAgo);
    }
    const young = join(dir, "pending", ".key.json.2.1.abcd.tmp");
    await writeFile(young, "a live writer's");
    const temps = async () =>
      (
        await Promise.all(
          ["", "variants", "originals", "pending"].map(async (sub) =>
            (await readdir(join(dir, sub))).filter((n) => n.endsWith(".tmp")).map((n) => join(dir, sub, n)),
          ),
        )
      ).flat();

    // A build whose images are all cached opens the cache and writes nothing: it lists no folder.
    const reader = await openCache(dir);
    expect(reader.lookup("a".repeat(64))).toBeUndefined();
    expect((await temps()).sort()).toEqual([...leftovers, young].sort());

    const writer = await openCache(dir);
    await writer.storeOriginal(await image(4, 4, 10));
    await vi.waitFor(async () => expect(await temps()).toEqual([young]));
  });
});
