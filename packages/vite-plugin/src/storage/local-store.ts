import { createHash, randomBytes } from "node:crypto";
import { link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { ListedObject, ObjectStore, PutOptions, PutResult, StoredObject } from "./object-store.js";
import { remoteUnavailableError } from "./store-errors.js";

/*
 * The object store as a directory (`remoteCache: "file:///mnt/team/grok-images"`): a network share mounted on
 * every machine, and the store the shared cache's own unit tests run on. The conditional writes S3 offers are made
 * of file-system primitives that are atomic on local disks and on NFS: create-only is `link()` of a complete temp
 * file (fails with EEXIST), compare-and-swap runs under a `mkdir` lock.
 */

const LOCK_STALE_MS = 10_000;

function etagOf(body: Buffer): string {
  return `"${createHash("md5").update(body).digest("hex")}"`;
}

function isCode(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === code;
}

export class LocalStore implements ObjectStore {
  readonly url: string;
  readonly #dir: string;

  constructor(dir: string, url: string) {
    this.#dir = dir;
    this.url = url;
  }

  #path(name: string): string {
    const path = join(this.#dir, ...name.split("/"));
    if (relative(this.#dir, path).startsWith("..")) throw new TypeError(`Not an object name: ${name}`);
    return path;
  }

  async #checkRoot(): Promise<void> {
    const info = await stat(this.#dir).catch(() => undefined);
    if (!info?.isDirectory()) {
      throw remoteUnavailableError(this.url, "opening it", "failed: the directory does not exist", {
        hint: "Mount the shared directory (or create it), or fix remoteCache / GROK_IMAGE_REMOTE_CACHE.",
      });
    }
  }

  async get(name: string): Promise<StoredObject | undefined> {
    await this.#checkRoot();
    const path = this.#path(name);
    try {
      const [body, info] = await Promise.all([readFile(path), stat(path)]);
      return { body, etag: etagOf(body), lastModified: info.mtime, storeTime: new Date() };
    } catch (error) {
      if (isCode(error, "ENOENT")) return undefined;
      throw error;
    }
  }

  async #temp(path: string, body: Buffer): Promise<string> {
    await mkdir(dirname(path), { recursive: true });
    const temp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
    await writeFile(temp, body, { flag: "wx" });
    return temp;
  }

  async put(name: string, body: Buffer, options: PutOptions = {}): Promise<PutResult> {
    await this.#checkRoot();
    const path = this.#path(name);
    const condition = options.condition;
    const temp = await this.#temp(path, body);
    try {
      if (condition && "ifNoneMatch" in condition) {
        try {
          await link(temp, path);
        } catch (error) {
          if (isCode(error, "EEXIST")) return { ok: false, reason: "exists" };
          throw error;
        }
        return { ok: true, etag: etagOf(body) };
      }
      if (!condition) {
        await rename(temp, path);
        return { ok: true, etag: etagOf(body) };
      }
      return await this.#withLock(path, async () => {
        const current = await readFile(path).catch((error: unknown) => {
          if (isCode(error, "ENOENT")) return undefined;
          throw error;
        });
        if (!current) return { ok: false, reason: "missing" } as const;
        if (etagOf(current) !== condition.ifMatch) return { ok: false, reason: "changed" } as const;
        await rename(temp, path);
        return { ok: true, etag: etagOf(body) } as const;
      });
    } finally {
      await rm(temp, { force: true });
    }
  }

  /** Runs `fn` holding `<path>.lock`; a lock left by a killed writer is taken over after 10 s. */
  async #withLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
    const lock = `${path}.lock`;
    for (;;) {
      try {
        await mkdir(lock);
        break;
      } catch (error) {
        if (!isCode(error, "EEXIST")) throw error;
        const info = await stat(lock).catch(() => undefined);
        if (info && Date.now() - info.mtimeMs > LOCK_STALE_MS)
          await rm(lock, { recursive: true, force: true });
        else await sleep(5 + Math.random() * 20);
      }
    }
    try {
      return await fn();
    } finally {
      await rm(lock, { recursive: true, force: true });
    }
  }

  async delete(name: string): Promise<void> {
    await this.#checkRoot();
    await rm(this.#path(name), { force: true });
  }

  async *list(prefix: string): AsyncIterable<ListedObject> {
    await this.#checkRoot();
    const names = (await readdir(this.#dir, { recursive: true }).catch(() => [] as string[]))
      .map((name) => name.split(sep).join("/"))
      .filter((name) => name.startsWith(prefix) && !name.endsWith(".tmp") && !name.endsWith(".lock"))
      .sort();
    for (const name of names) {
      const info = await stat(join(this.#dir, name)).catch(() => undefined);
      if (info?.isFile()) yield { name, size: info.size };
    }
  }

  async close(): Promise<void> {}
}
