import { execFileSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { formatError, GrokImageError } from "../errors.js";
import { cacheAccessError } from "./cache-access-error.js";
import { openCache } from "./image-cache.js";
import { acquireDirLock } from "./key-lock.js";
import { writeFileAtomic } from "./write-file-atomic.js";

let dir: string;
const undo: Array<() => Promise<void>> = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "grok-cache-access-"));
});
afterEach(async () => {
  for (const step of undo.splice(0).reverse()) await step();
  await rm(dir, { recursive: true, force: true });
});

/**
 * Makes `folder` refuse writes for this process: `chmod a-w` for a normal user; root ignores modes, so there the
 * immutable attribute does it (ext4 and most Linux file systems). Undefined when neither is possible here.
 */
async function makeReadOnly(folder: string): Promise<boolean> {
  if (process.getuid?.() !== 0) {
    await chmod(folder, 0o555);
    undo.push(() => chmod(folder, 0o755));
    return true;
  }
  try {
    execFileSync("chattr", ["+i", folder], { stdio: "ignore" });
  } catch {
    return false;
  }
  undo.push(async () => {
    execFileSync("chattr", ["-i", folder], { stdio: "ignore" });
  });
  return true;
}

async function failure(run: () => Promise<unknown>): Promise<GrokImageError> {
  try {
    await run();
  } catch (error) {
    expect(GrokImageError.isInstance(error)).toBe(true);
    return error as GrokImageError;
  }
  throw new Error("expected a failure");
}

describe("a cache directory that cannot be used", () => {
  it("is a file: GROK_CACHE_UNWRITABLE naming it and what to do", async () => {
    const cacheDir = join(dir, ".grok-images");
    await writeFile(cacheDir, "not a folder");
    const error = await failure(() => openCache(cacheDir));
    expect(error.code).toBe("GROK_CACHE_UNWRITABLE");
    expect(error.message).toContain(cacheDir);
    expect(error.message).toContain("a file stands where a folder is needed");
    expect(error.message).toMatch(/ENOTDIR|EEXIST/);
    expect(error.hint).toContain("Move or delete the file");
    expect(error.hint).toContain("GROK_IMAGE_CACHE_DIR");
  });

  it("sits under a file", async () => {
    await writeFile(join(dir, "site"), "");
    const cacheDir = join(dir, "site", ".grok-images");
    const error = await failure(() => openCache(cacheDir));
    expect(error.code).toBe("GROK_CACHE_UNWRITABLE");
    expect(formatError(error)).toContain(cacheDir);
  });

  it("is read-only and empty: opening it says so", async (ctx) => {
    const cacheDir = join(dir, "cache");
    await mkdir(cacheDir);
    if (!(await makeReadOnly(cacheDir))) ctx.skip();
    const error = await failure(() => openCache(cacheDir));
    expect(error.code).toBe("GROK_CACHE_UNWRITABLE");
    expect(error.message).toContain(cacheDir);
    expect(error.message).toMatch(/permission denied \(EACCES|operation not permitted \(EPERM/);
    expect(error.hint).toContain("write access");
  });

  it("is read-only once opened: a write names the file, a lock names its folder", async (ctx) => {
    const cacheDir = join(dir, "cache");
    const cache = await openCache(cacheDir);
    const originals = join(cacheDir, "originals");
    const locks = join(cacheDir, "locks");
    if (!(await makeReadOnly(originals)) || !(await makeReadOnly(locks))) ctx.skip();

    const target = join(originals, "ab.png");
    const write = await failure(() => writeFileAtomic(target, "bytes"));
    expect(write.code).toBe("GROK_CACHE_UNWRITABLE");
    expect(write.message).toContain(target);
    expect(await readdir(originals)).toEqual([]);

    const lock = await failure(() => acquireDirLock(join(locks, "key-x.lock")));
    expect(lock.code).toBe("GROK_CACHE_UNWRITABLE");
    expect(lock.message).toContain(cacheDir);
    expect(lock.message).toContain(join(locks, "key-x.lock"));

    const viaCache = await failure(() => cache.withKeyLock("abc", async () => "never"));
    expect(viaCache.code).toBe("GROK_CACHE_UNWRITABLE");
  });
});

describe("cacheAccessError", () => {
  const errno = (code: string, syscall = "open", path = "/c/x") =>
    Object.assign(new Error(`${code}: ${syscall} '${path}'`), { code, syscall, path });

  it.each([
    ["EACCES", "permission denied", "write access"],
    ["EPERM", "operation not permitted", "write access"],
    ["EROFS", "read-only", "Mount it writable"],
    ["ENOSPC", "disk is full", "Free some space"],
    ["EDQUOT", "quota", "Free some space"],
  ])("%s reads as %s", (code, why, fix) => {
    const error = cacheAccessError(errno(code), "/c");
    expect(error?.code).toBe("GROK_CACHE_UNWRITABLE");
    expect(error?.message).toContain(why);
    expect(error?.message).toContain(`(${code} at /c/x)`);
    expect(error?.hint).toContain(fix);
    expect(error?.cause).toBeInstanceOf(Error);
  });

  it("leaves other errors to the caller", () => {
    expect(cacheAccessError(errno("ENOENT"), "/c")).toBeUndefined();
    expect(cacheAccessError(errno("EEXIST", "rename"), "/c")).toBeUndefined();
    expect(cacheAccessError(new Error("boom"), "/c")).toBeUndefined();
    expect(cacheAccessError(new GrokImageError("GROK_CACHE_CORRUPT", "x"), "/c")).toBeUndefined();
  });
});
