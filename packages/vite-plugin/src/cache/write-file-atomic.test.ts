import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sweepStaleTemps, writeFileAtomic } from "./write-file-atomic.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "grok-atomic-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("writeFileAtomic", () => {
  it("writes the content and leaves no temp file", async () => {
    const file = join(dir, "a.json");
    await writeFileAtomic(file, "one");
    await writeFileAtomic(file, "two");
    expect(await readFile(file, "utf8")).toBe("two");
    expect(await readdir(dir)).toEqual(["a.json"]);
  });

  it("writes an array of chunks in order, more of them than one vectored write takes", async () => {
    const file = join(dir, "chunks.txt");
    const chunks = Array.from({ length: 3000 }, (_, i) => Buffer.from(`${i},`));
    await writeFileAtomic(file, chunks);
    expect(await readFile(file, "utf8")).toBe(Array.from({ length: 3000 }, (_, i) => `${i},`).join(""));
    expect(await readdir(dir)).toEqual(["chunks.txt"]);
  });

  it("removes its temp file when the rename fails", async () => {
    // A directory in the way makes the final rename fail after the temp file was fully written.
    const target = join(dir, "taken");
    await mkdir(join(target, "child"), { recursive: true });
    await expect(writeFileAtomic(target, "data")).rejects.toThrow();
    expect(await readdir(dir)).toEqual(["taken"]);
  });

  it("fails without leftovers when the directory does not exist", async () => {
    await expect(writeFileAtomic(join(dir, "missing", "f"), "x")).rejects.toMatchObject({ code: "ENOENT" });
    expect(await readdir(dir)).toEqual([]);
  });

  it("never lets a concurrent reader see a partial file", async () => {
    const file = join(dir, "big.bin");
    const a = Buffer.alloc(4 * 1024 * 1024, "a");
    const b = Buffer.alloc(3 * 1024 * 1024, "b");
    await writeFileAtomic(file, a);
    let writing = true;
    const writer = (async () => {
      for (let i = 0; i < 40; i++) await writeFileAtomic(file, i % 2 ? a : b);
      writing = false;
    })();
    let reads = 0;
    while (writing) {
      const seen = await readFile(file);
      reads++;
      expect(seen.equals(a) || seen.equals(b)).toBe(true);
    }
    await writer;
    expect(reads).toBeGreaterThan(0);
    expect((await readdir(dir)).filter((n) => n.endsWith(".tmp"))).toEqual([]);
  });

  it("keeps an existing target with ifExists: keep", async () => {
    const file = join(dir, "content-addressed");
    await writeFileAtomic(file, "first");
    await writeFileAtomic(file, "second", { ifExists: "keep" });
    expect(await readFile(file, "utf8")).toBe("first");
    expect(await readdir(dir)).toEqual(["content-addressed"]);
  });
});

describe("sweepStaleTemps", () => {
  it("removes old temp files and keeps young ones and other files", async () => {
    const old = join(dir, ".manifest.json.1.1.abcd.tmp");
    const young = join(dir, ".manifest.json.2.1.ef01.tmp");
    await writeFile(old, "x");
    await writeFile(young, "y");
    await writeFile(join(dir, "manifest.json"), "{}");
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await utimes(old, twoHoursAgo, twoHoursAgo);
    expect(await sweepStaleTemps(dir)).toBe(1);
    expect((await readdir(dir)).sort()).toEqual([".manifest.json.2.1.ef01.tmp", "manifest.json"]);
  });
});
