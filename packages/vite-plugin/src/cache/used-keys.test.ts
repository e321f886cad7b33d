import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GrokImageError } from "../errors.js";
import { readUsedKeys, recordUsedKeys } from "./used-keys.js";

let project: string;
let cacheDir: string;
const file = () => join(cacheDir, "used.json");
const record = async () => JSON.parse(await readFile(file(), "utf8"));

beforeEach(async () => {
  project = await mkdtemp(join(tmpdir(), "grok-used-"));
  cacheDir = join(project, ".grok-images");
  await mkdir(cacheDir);
});
afterEach(async () => {
  await rm(project, { recursive: true, force: true });
});

describe("recordUsedKeys", () => {
  it("writes the keys of the root sorted, pretty-printed, under the root relative to the cache's parent", async () => {
    await recordUsedKeys(cacheDir, project, ["k-b", "k-a", "k-b"], true);
    expect(await readFile(file(), "utf8")).toBe(
      `${JSON.stringify({ version: 1, roots: { ".": ["k-a", "k-b"] } }, null, 2)}\n`,
    );
    expect(await readUsedKeys(cacheDir)).toEqual(new Set(["k-a", "k-b"]));
  });

  it("a complete build replaces its root's keys, a partial one adds to them", async () => {
    await recordUsedKeys(cacheDir, project, ["old-1", "old-2"], true);
    await recordUsedKeys(cacheDir, project, ["new-1"], false);
    expect((await record()).roots["."]).toEqual(["new-1", "old-1", "old-2"]);
    await recordUsedKeys(cacheDir, project, ["new-1", "new-2"], true);
    expect((await record()).roots["."]).toEqual(["new-1", "new-2"]);
    // A complete build that used nothing leaves nothing recorded for its root.
    await recordUsedKeys(cacheDir, project, [], true);
    expect((await record()).roots).toEqual({});
    expect(await readUsedKeys(cacheDir)).toEqual(new Set());
  });

  it("keeps one set per project sharing the cache, and reads their union", async () => {
    const shared = join(project, "shared-cache");
    await recordUsedKeys(shared, join(project, "site-b"), ["b"], true);
    await recordUsedKeys(shared, join(project, "site-a"), ["a", "both"], true);
    await recordUsedKeys(shared, join(project, "site-b"), ["both", "b2"], true);
    const text = await readFile(join(shared, "used.json"), "utf8");
    expect(JSON.parse(text).roots).toEqual({ "site-a": ["a", "both"], "site-b": ["b2", "both"] });
    expect(text.indexOf('"site-a"')).toBeLessThan(text.indexOf('"site-b"'));
    expect(await readUsedKeys(shared)).toEqual(new Set(["a", "both", "b2"]));
  });

  it("leaves an unchanged record untouched", async () => {
    await recordUsedKeys(cacheDir, project, ["a", "b"], true);
    const before = await stat(file(), { bigint: true });
    await recordUsedKeys(cacheDir, project, ["b", "a"], true);
    await recordUsedKeys(cacheDir, project, ["a"], false);
    const after = await stat(file(), { bigint: true });
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeNs).toBe(before.mtimeNs);
  });

  it("loses no build's keys when many record at once, and leaves no temp file", async () => {
    const roots = Array.from({ length: 12 }, (_, i) => join(project, `site-${String(i).padStart(2, "0")}`));
    await Promise.all(roots.map((root, i) => recordUsedKeys(cacheDir, root, [`key-${i}`], i % 2 === 0)));
    expect(Object.keys((await record()).roots)).toHaveLength(12);
    expect(await readUsedKeys(cacheDir)).toEqual(new Set(roots.map((_, i) => `key-${i}`)));
    expect((await readdir(cacheDir)).filter((n) => n.endsWith(".tmp"))).toEqual([]);
    expect(await readdir(join(cacheDir, "locks"))).toEqual([]);
  });

  it("creates no cache directory for a build that used no image", async () => {
    const absent = join(project, "no-cache");
    await recordUsedKeys(absent, project, [], true);
    expect(existsSync(absent)).toBe(false);
  });
});

describe("readUsedKeys", () => {
  it("reads a missing record as an empty set", async () => {
    expect(await readUsedKeys(cacheDir)).toEqual(new Set());
    expect(await readUsedKeys(join(project, "nowhere"))).toEqual(new Set());
  });

  it.each([
    ["a merge conflict", '{\n<<<<<<< HEAD\n  "version": 1\n=======\n}\n', /not valid JSON/],
    ["an empty file", "", /not valid JSON/],
    ["an array", "[]", /not an object/],
    ["another version", '{"version":2,"roots":{}}', /version 2/],
    ["no roots", '{"version":1}', /no "roots"/],
    ["keys that are not strings", '{"version":1,"roots":{".":[1]}}', /root "\."/],
  ])(
    "reports %s as GROK_CACHE_CORRUPT naming the file, never as an empty set",
    async (_what, text, message) => {
      await writeFile(file(), text);
      const error = await readUsedKeys(cacheDir).catch((e: unknown) => e);
      expect(GrokImageError.isInstance(error)).toBe(true);
      const e = error as GrokImageError;
      expect(e.code).toBe("GROK_CACHE_CORRUPT");
      expect(e.message).toContain(file());
      expect(e.message).toMatch(message);
      expect(e.hint).toMatch(/version control/);
      // Recording does not paper over it either: the other projects' keys would be lost.
      await expect(recordUsedKeys(cacheDir, project, ["k"], true)).rejects.toMatchObject({
        code: "GROK_CACHE_CORRUPT",
      });
      expect(await readFile(file(), "utf8")).toBe(text);
    },
  );
});
