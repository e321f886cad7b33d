import { mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { GrokImageError } from "../errors.js";
import type { ManifestEntry } from "../types.js";
import { hashFile } from "./hash-file.js";
import type { ImageCache } from "./image-cache.js";
import { type Manifest, ManifestSyntaxError, parseManifest, serializeManifest } from "./manifest-file.js";
import { writeFileAtomic } from "./write-file-atomic.js";

/*
 * `<cacheDir>/trash/<time>/`: what a prune took out of the cache, kept so that `grok-image prune --restore` can
 * put it back. Each folder holds the removed entries as a `manifest.json` of its own, their originals under
 * `originals/` and the variants under `variants/`, under the same names as in the cache. Folder names are
 * ISO-8601 times with `:` and `.` turned into `-` (as Windows file names require), so they sort by age.
 *
 * The trash is git-ignored (its own `.gitignore`): a prune is committed as the removal it is, the history keeps
 * what was committed, and the trash is the local undo for what was never committed.
 */

/** Trash folders older than this are emptied by the next prune. */
export const TRASH_MAX_AGE_MS = 30 * 24 * 60 * 60 * 1000;

const NAME = /^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})-(\d{3})Z$/;

export interface TrashFolder {
  /** The folder name, e.g. `2025-01-02T03-04-05-678Z`: what `--restore` takes. */
  readonly name: string;
  readonly dir: string;
  readonly time: Date;
}

export function trashRoot(cacheDir: string): string {
  return join(cacheDir, "trash");
}

/** The name of a trash folder created at `time`. */
export function trashName(time: Date): string {
  return time.toISOString().replace(/[:.]/g, "-");
}

/** The time a trash folder name stands for; also accepts the plain ISO form (`2025-01-02T03:04:05.678Z`). */
export function parseTrashName(name: string): Date | undefined {
  const match = NAME.exec(name.replace(/[:.]/g, "-"));
  if (!match) return undefined;
  const [, day, h, m, s, ms] = match;
  const time = new Date(`${day}T${h}:${m}:${s}.${ms}Z`);
  return Number.isNaN(time.getTime()) ? undefined : time;
}

/** Every trash folder, oldest first. Anything else in `trash/` (a person's notes, dot files) is left alone. */
export async function listTrash(cacheDir: string): Promise<TrashFolder[]> {
  const root = trashRoot(cacheDir);
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  const folders: TrashFolder[] = [];
  for (const entry of entries) {
    const time = entry.isDirectory() ? parseTrashName(entry.name) : undefined;
    if (time && trashName(time) === entry.name)
      folders.push({ name: entry.name, dir: join(root, entry.name), time });
  }
  return folders.sort((a, b) => a.name.localeCompare(b.name));
}

/** A new, empty trash folder (with `originals/` and `variants/`), named after `now` or the next free millisecond. */
export async function createTrashFolder(cacheDir: string, now = new Date()): Promise<TrashFolder> {
  const root = trashRoot(cacheDir);
  await mkdir(root, { recursive: true });
  await writeFileAtomic(
    join(root, ".gitignore"),
    "# Local undo for `grok-image prune`; never committed.\n*\n",
    {
      ifExists: "keep",
    },
  );
  for (let ms = now.getTime(); ; ms++) {
    const time = new Date(ms);
    const dir = join(root, trashName(time));
    try {
      // Not recursive: EEXIST means another prune took this millisecond.
      await mkdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") continue;
      throw error;
    }
    await mkdir(join(dir, "originals"));
    await mkdir(join(dir, "variants"));
    return { name: trashName(time), dir, time };
  }
}

/**
 * Moves files of `variants/` into the folder's `variants/`, outputs before sidecars: a sidecar only ever
 * describes a complete file, in the cache and in the trash.
 */
export async function moveVariantsToTrash(files: readonly string[], folder: TrashFolder): Promise<void> {
  const ordered = [...files].sort((a, b) => Number(a.endsWith(".json")) - Number(b.endsWith(".json")));
  for (const file of ordered) await moveIfPresent(file, join(folder.dir, "variants", basename(file)));
}

/** What a trash folder holds. */
export interface TrashContents {
  entries: Manifest;
  originals: string[];
  variants: string[];
  bytes: number;
}

export async function readTrash(folder: TrashFolder): Promise<TrashContents> {
  const entries = await readTrashManifest(folder);
  const originals = await filesOf(join(folder.dir, "originals"));
  const variants = await filesOf(join(folder.dir, "variants"));
  let bytes = 0;
  for (const file of [...originals, ...variants])
    bytes += (await stat(file).catch(() => undefined))?.size ?? 0;
  return { entries, originals, variants, bytes };
}

/**
 * Deletes the trash folders older than `maxAgeMs` (for good), and says which and what they held. With `dryRun`,
 * only says so.
 */
export async function expireTrash(
  cacheDir: string,
  options: { now?: Date; maxAgeMs?: number; dryRun?: boolean } = {},
): Promise<Array<TrashFolder & { contents: TrashContents }>> {
  const now = (options.now ?? new Date()).getTime();
  const maxAgeMs = options.maxAgeMs ?? TRASH_MAX_AGE_MS;
  const expired: Array<TrashFolder & { contents: TrashContents }> = [];
  for (const folder of await listTrash(cacheDir)) {
    if (now - folder.time.getTime() <= maxAgeMs) continue;
    // A damaged record does not keep a folder past its time; it only goes unreported in the count.
    const contents = await readTrash(folder).catch(
      (): TrashContents => ({ entries: new Map(), originals: [], variants: [], bytes: 0 }),
    );
    if (!options.dryRun) await rm(folder.dir, { recursive: true, force: true });
    expired.push({ ...folder, contents });
  }
  return expired;
}

export interface RestoreReport {
  folder: TrashFolder;
  /** Entries back in the manifest. */
  restored: Array<[string, ManifestEntry]>;
  /** Entries left in the trash folder, and why. */
  kept: Array<{ key: string; entry: ManifestEntry; reason: string }>;
  originals: number;
  variants: number;
  /** True when the folder was emptied and removed. */
  removed: boolean;
}

/**
 * Puts a trash folder back: originals first (each checked against its sha256), then the entries in one manifest
 * write (so the manifest never names a missing file), then the variants. Entries whose key the cache holds again
 * (generated anew since the prune) and entries with a damaged or missing original stay in the folder, which is
 * removed only once it is empty.
 */
export async function restoreTrash(cache: ImageCache, folder: TrashFolder): Promise<RestoreReport> {
  const entries = await readTrashManifest(folder);
  await cache.refresh();
  const kept: RestoreReport["kept"] = [];
  const ready = new Map<string, ManifestEntry>();
  let originals = 0;
  for (const [key, entry] of entries) {
    if (cache.lookup(key)) {
      kept.push({ key, entry, reason: "the cache holds this generation again" });
      continue;
    }
    // Every original checked before any is moved: an entry that cannot come back leaves its files where they are.
    const moves: Array<[string, string]> = [];
    let problem: string | undefined;
    for (const record of entry.originals) {
      const target = cache.originalPath(record);
      const source = join(folder.dir, "originals", basename(target));
      const inTrash = await hashFile(source);
      if (inTrash?.sha256 === record.sha256 && inTrash.bytes === record.bytes) {
        moves.push([source, target]);
        continue;
      }
      // Moved back already (shared with another entry, or by a restore that was interrupted).
      const inCache = await hashFile(target);
      if (inCache?.sha256 === record.sha256 && inCache.bytes === record.bytes) continue;
      problem = inTrash
        ? `${source} does not match its sha256`
        : `its original ${basename(target)} is in neither the trash nor the cache`;
      break;
    }
    if (problem !== undefined) {
      kept.push({ key, entry, reason: problem });
      continue;
    }
    for (const [source, target] of moves) {
      await rename(source, target);
      originals++;
    }
    ready.set(key, entry);
  }

  const restoredKeys = new Set(await cache.restore(ready));
  for (const [key, entry] of ready) {
    if (!restoredKeys.has(key)) kept.push({ key, entry, reason: "the cache holds this generation again" });
  }

  let variants = 0;
  const variantsDir = join(cache.dir, "variants");
  const variantFiles = (await filesOf(join(folder.dir, "variants"))).sort(
    (a, b) => Number(a.endsWith(".json")) - Number(b.endsWith(".json")),
  );
  for (const file of variantFiles) {
    const target = join(variantsDir, basename(file));
    // A variant's name hashes its original and transform: one of that name in the cache is the same variant.
    if (await stat(target).catch(() => undefined)) await rm(file, { force: true });
    else {
      await rename(file, target);
      if (!file.endsWith(".json")) variants++;
    }
  }

  const left: Manifest = new Map(kept.map(({ key, entry }) => [key, entry]));
  let removed = false;
  if (left.size === 0 && (await filesOf(join(folder.dir, "originals"))).length === 0) {
    await rm(folder.dir, { recursive: true, force: true });
    removed = true;
  } else {
    await writeFileAtomic(join(folder.dir, "manifest.json"), serializeManifest(left));
  }
  const restored = [...ready].filter(([key]) => restoredKeys.has(key));
  return { folder, restored, kept, originals, variants, removed };
}

async function readTrashManifest(folder: TrashFolder): Promise<Manifest> {
  const file = join(folder.dir, "manifest.json");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    // A folder that only ever received variants.
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return new Map();
    throw error;
  }
  try {
    const { entries, problems } = parseManifest(text);
    if (problems.length === 0) return entries;
    throw new ManifestSyntaxError(problems.join("; "));
  } catch (error) {
    if (!(error instanceof ManifestSyntaxError)) throw error;
    throw new GrokImageError(
      "GROK_CACHE_CORRUPT",
      `The trash record ${file} is damaged (${error.message}); nothing was restored from it.`,
      {
        hint: "Its originals are still in that folder: fix the file by hand, or copy what you need back.",
        cause: error,
      },
    );
  }
}

async function filesOf(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile() && !e.name.startsWith("."))
    .map((e) => join(dir, e.name))
    .sort();
}

async function moveIfPresent(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    // Removed meanwhile (another prune): nothing to keep.
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}
