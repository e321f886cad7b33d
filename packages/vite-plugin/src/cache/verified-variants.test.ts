import { mkdtemp, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sha256Hex } from "./hash-file.js";
import type { VariantMeta } from "./variant-store.js";
import { VerifiedVariants } from "./verified-variants.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "grok-verified-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const META: VariantMeta = {
  width: 4,
  height: 2,
  format: "webp",
  bytes: 6,
  sha256: sha256Hex(Buffer.from("abcdef")),
};

async function variant(name: string, bytes = "abcdef"): Promise<string> {
  const file = join(dir, `${name}.webp`);
  await writeFile(file, bytes);
  return file;
}

describe("VerifiedVariants", () => {
  it("answers for a verified file, across instances once written, until the file changes", async () => {
    const file = await variant("a");
    const record = join(dir, "verified.json");
    const verified = new VerifiedVariants(record, { racyMs: 0 });
    expect(await verified.lookup("a", () => file)).toBeUndefined();
    await verified.record("a", file, META, Date.now());
    expect(await verified.lookup("a", () => file)).toEqual(META);

    // The next build reads it back.
    await verified.flush();
    const next = new VerifiedVariants(record, { racyMs: 0 });
    expect(await next.lookup("a", () => file)).toEqual(META);

    // Cut short: the identity no longer matches, and the entry is forgotten.
    await writeFile(file, "abc");
    expect(await next.lookup("a", () => file)).toBeUndefined();
    await writeFile(file, "abcdef");
    expect(await next.lookup("a", () => file)).toBeUndefined();
  });

  it("answers without waiting once the record is read, with the same answers as lookup", async () => {
    const file = await variant("a");
    const record = join(dir, "verified.json");
    const first = new VerifiedVariants(record, { racyMs: 0 });
    await first.record("a", file, META, Date.now());
    await first.flush();

    const next = new VerifiedVariants(record, { racyMs: 0 });
    expect(next.lookupNow("a", () => file)).toBeUndefined();
    await next.load();
    expect(next.lookupNow("a", () => file)).toEqual(META);
    expect(next.lookupNow("b", () => file)).toBeUndefined();
    await writeFile(file, "abc");
    expect(next.lookupNow("a", () => file)).toBeUndefined();
    // Forgotten for both ways of asking.
    await writeFile(file, "abcdef");
    expect(await next.lookup("a", () => file)).toBeUndefined();
  });

  it("forgets a file replaced by another (a checkout, a restore) or deleted", async () => {
    const file = await variant("b");
    const verified = new VerifiedVariants(join(dir, "verified.json"), { racyMs: 0 });
    await verified.record("b", file, META, Date.now());
    const copy = await variant("b-copy");
    await rename(copy, file);
    expect(await verified.lookup("b", () => file)).toBeUndefined();

    await verified.record("b", file, META, Date.now());
    await rm(file);
    expect(await verified.lookup("b", () => file)).toBeUndefined();
  });

  it("flush writes the record when it changed, and only then", async () => {
    const file = await variant("d");
    const record = join(dir, "verified.json");
    const verified = new VerifiedVariants(record, { racyMs: 0 });
    await verified.flush();
    await expect(stat(record)).rejects.toThrow();
    await verified.record("d", file, META, Date.now());
    await verified.flush();
    const written = await stat(record);
    await verified.flush();
    expect((await stat(record)).mtimeMs).toBe(written.mtimeMs);
    expect(await new VerifiedVariants(record, { racyMs: 0 }).lookup("d", () => file)).toEqual(META);
  });

  it("holds back a file read a moment after its change, and records it once hashed again a window later", async () => {
    const file = await variant("c");
    const record = join(dir, "verified.json");
    const verified = new VerifiedVariants(record);
    // Read right after its write: a second write within the same clock tick could keep the same times.
    await verified.record("c", file, META, Date.now());
    expect(await verified.lookup("c", () => file)).toBeUndefined();
    await verified.flush();
    expect(await verified.lookup("c", () => file)).toEqual(META);
    expect(await new VerifiedVariants(record).lookup("c", () => file)).toEqual(META);
  });

  it("records a variant it was told was written only after hashing it again", async () => {
    const record = join(dir, "verified.json");
    const kept = await variant("kept");
    const changed = await variant("changed");
    const verified = new VerifiedVariants(record);
    verified.written("kept", kept, META);
    verified.written("changed", changed, META);
    // Rewritten in place, same size, before the record vouched for it.
    await writeFile(changed, "abcxyz");
    await verified.flush();
    const next = new VerifiedVariants(record);
    expect(await next.lookup("kept", () => kept)).toEqual(META);
    expect(await next.lookup("changed", () => changed)).toBeUndefined();
  });

  it("waits two seconds after a change where file times are whole seconds", async () => {
    const file = await variant("coarse");
    const record = join(dir, "verified.json");
    // A whole-second modification time, as FAT or HFS+ keep: their clock tick can be that long.
    const second = Math.floor(Date.now() / 1000);
    await utimes(file, second, second);
    const verified = new VerifiedVariants(record);
    verified.written("coarse", file, META);
    await verified.flush();
    expect(await verified.lookup("coarse", () => file)).toBeUndefined();
    expect(await new VerifiedVariants(record).lookup("coarse", () => file)).toBeUndefined();
  });

  it("starts empty from a missing or unreadable record", async () => {
    const file = await variant("d");
    await writeFile(join(dir, "torn.json"), "{ not json");
    for (const record of ["missing.json", "torn.json"]) {
      expect(await new VerifiedVariants(join(dir, record)).lookup("d", () => file)).toBeUndefined();
    }
  });
});
