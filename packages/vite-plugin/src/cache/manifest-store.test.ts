import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ManifestEntry } from "../types.js";
import { serializeManifest } from "./manifest-file.js";
import { ManifestStore } from "./manifest-store.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "grok-manifest-"));
  await mkdir(join(dir, "locks"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const store = () => new ManifestStore(dir, join(dir, "locks"), {});

function entry(prompt: string, extra: Record<string, unknown> = {}): ManifestEntry {
  return {
    model: "grok-imagine/text-to-image-lite",
    prompt,
    n: 1,
    ratio: null,
    resolution: null,
    v: null,
    taskId: `task-${prompt}`,
    createdAt: "2025-01-01T00:00:00.000Z",
    originals: [{ sha256: "a".repeat(64), width: 8, height: 8, format: "png", bytes: 100 }],
    ...extra,
  };
}

describe("ManifestStore refresh", () => {
  it("does not read the file while only this store wrote it, and reads it once after another writer", async () => {
    const mine = store();
    const other = store();
    await mine.refresh();
    await mine.update((entries) => {
      entries.set("mine", entry("mine"));
    });
    await mine.refresh();
    await mine.refresh();
    expect(mine.counters).toEqual({ reads: 0, writes: 1 });

    await other.refresh();
    expect(other.counters.reads).toBe(1);
    await other.update((entries) => {
      entries.set("theirs", entry("theirs"));
    });
    // The other store's write was its own: it does not read back what it wrote.
    await other.refresh();
    expect(other.counters).toEqual({ reads: 1, writes: 1 });

    await Promise.all([mine.refresh(), mine.refresh(), mine.refresh()]);
    expect(mine.counters.reads).toBe(1);
    expect(mine.keys()).toEqual(["mine", "theirs"]);
    await mine.refresh();
    expect(mine.counters.reads).toBe(1);
    await mine.refresh(true);
    expect(mine.counters.reads).toBe(2);
  });

  it("re-reads under the lock before writing when another writer changed the file", async () => {
    const mine = store();
    const other = store();
    await mine.update((entries) => {
      entries.set("a", entry("a"));
    });
    await other.update((entries) => {
      entries.set("b", entry("b"));
    });
    await mine.update((entries) => {
      entries.set("c", entry("c"));
    });
    expect(mine.counters.reads).toBe(1);
    const fresh = store();
    await fresh.refresh();
    expect(fresh.keys()).toEqual(["a", "b", "c"]);
  });
});

describe("ManifestStore group commit", () => {
  it("writes changes queued together once, keeps every entry, and rejects only the change that failed", async () => {
    const mine = store();
    const keys = Array.from({ length: 50 }, (_, i) => `k${String(i).padStart(2, "0")}`);
    const failing = mine.update(() => {
      throw new Error("this change is refused");
    });
    const done = keys.map((key) =>
      mine.update(async (entries) => {
        entries.set(key, entry(key));
      }),
    );
    await expect(failing).rejects.toThrow("this change is refused");
    await Promise.all(done);
    expect(mine.counters.writes).toBe(1);
    expect(mine.keys()).toEqual(keys);
    const fresh = store();
    await fresh.refresh();
    expect(fresh.keys()).toEqual(keys);
  });

  it("runs a follow-up after the write with the entries as written", async () => {
    const mine = store();
    let seenOnDisk: string | undefined;
    await mine.update((entries) => {
      entries.set("k", entry("k"));
      return async (written) => {
        seenOnDisk = await readFile(mine.path, "utf8");
        expect(written.has("k")).toBe(true);
      };
    });
    expect(seenOnDisk).toContain('"k"');
  });
});

describe("serializeManifest", () => {
  it("produces the bytes of JSON.stringify of the sorted object, for awkward strings and unknown fields", () => {
    const entries = new Map<string, ManifestEntry>([
      ["zz", entry('line one\nline "two"\t\u00e9\u2028', { zExtra: { nested: [1, 2] }, aExtra: true })],
      ["aa", entry("plain")],
    ]);
    const text = serializeManifest(entries);
    expect(text).toBe(`${JSON.stringify(JSON.parse(text), null, 2)}\n`);
    expect(Object.keys(JSON.parse(text))).toEqual(["aa", "zz"]);
    expect(JSON.parse(text).zz.prompt).toBe('line one\nline "two"\t\u00e9\u2028');
    // Twice from the same entry objects (the second time from the per-entry text): the same bytes.
    expect(serializeManifest(entries)).toBe(text);
    expect(serializeManifest(new Map())).toBe("{}\n");
  });
});
