import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { GrokImageError } from "../errors.js";
import { acquireDirLock, lockDirFor } from "./key-lock.js";
import { writeFileAtomic } from "./write-file-atomic.js";

/**
 * `used.json`: the generation keys each project's last build used. `grok-image prune` keeps them even when its
 * scan cannot see the directive (a template-literal dynamic import, a directive built at run time), because a key
 * a build used is a paid image that build needs again.
 *
 * ```json
 * {
 *   "version": 1,
 *   "roots": {
 *     ".": ["<generation key>", "..."]
 *   }
 * }
 * ```
 *
 * Roots are relative to the cache directory's parent, `/`-separated (`.` for the usual `<root>/.grok-images`),
 * so several projects can share one cache and the file means the same on every machine. Roots and keys are
 * sorted and the file holds no times, so a build that used the same images leaves it byte-identical: committed
 * with the cache, it only shows up in a diff when the set of used images changed.
 */
const USED_KEYS_FILE = "used.json";

const VERSION = 1;

type UsedRecord = Map<string, Set<string>>;

/**
 * Records the generation keys a build used. `complete: true` (the build finished) replaces what was recorded for
 * `root`; `complete: false` (it failed or stopped part way, so it may not have reached every directive) adds to
 * it, so an interrupted build never makes prune forget an image the full build needs.
 *
 * Read, merge and write happen under the cache's `used` lock (the same directory lock the manifest uses): a
 * plain re-read-merge-rename would let two builds finishing together each write their own merge, and the later
 * rename would silently drop the other's keys. The write itself is atomic (temp file + rename).
 */
export async function recordUsedKeys(
  cacheDir: string,
  root: string,
  keys: Iterable<string>,
  complete: boolean,
): Promise<void> {
  const dir = path.resolve(cacheDir);
  const file = path.join(dir, USED_KEYS_FILE);
  const name = rootName(dir, root);
  const used = new Set(keys);
  const current = await readText(file);
  // A project without grok: images gets no cache directory just for an empty record.
  if (used.size === 0 && current === undefined) return;
  // A build that used what the record says already (every cached build of an unchanged site) takes no lock and
  // writes nothing: the file is only ever replaced whole, so what was read is a record some build wrote in full.
  if (current !== undefined && holds(parseUsedKeys(current, file).get(name), used, complete)) return;

  const locksDir = path.join(dir, "locks");
  await mkdir(locksDir, { recursive: true });
  const lock = await acquireDirLock(lockDirFor(locksDir, "used"), { pollMs: 25, label: USED_KEYS_FILE });
  try {
    const text = await readText(file);
    const next = merge(text === undefined ? new Map() : parseUsedKeys(text, file), name, used, complete);
    // Unchanged: leave the file (and its mtime) alone.
    if (next !== text) await writeFileAtomic(file, next);
  } finally {
    await lock.release();
  }
}

/** Whether recording `used` would leave a root's keys as they are (compared as sets: no sorting, no writing out). */
function holds(
  recorded: ReadonlySet<string> | undefined,
  used: ReadonlySet<string>,
  complete: boolean,
): boolean {
  if (!recorded) return used.size === 0;
  if (complete && recorded.size !== used.size) return false;
  for (const key of used) if (!recorded.has(key)) return false;
  return true;
}

/** The record's text once `used` is recorded for `root` (replacing what it had, or added to it). */
function merge(record: UsedRecord, root: string, used: ReadonlySet<string>, complete: boolean): string {
  const merged = complete ? new Set(used) : new Set([...(record.get(root) ?? []), ...used]);
  if (merged.size === 0) record.delete(root);
  else record.set(root, merged);
  return serializeUsedKeys(record);
}

/**
 * Every key any project sharing the cache recorded. A missing file is an empty set; a damaged one throws
 * GROK_CACHE_CORRUPT rather than reading as empty, since prune would then throw away images a build uses.
 */
export async function readUsedKeys(cacheDir: string): Promise<Set<string>> {
  const file = path.join(path.resolve(cacheDir), USED_KEYS_FILE);
  const text = await readText(file);
  const all = new Set<string>();
  if (text === undefined) return all;
  for (const keys of parseUsedKeys(text, file).values()) for (const key of keys) all.add(key);
  return all;
}

/** The root as recorded: relative to the cache directory's parent, `/`-separated, `.` for the parent itself. */
function rootName(cacheDir: string, root: string): string {
  const rel = path.relative(path.dirname(cacheDir), path.resolve(root));
  return rel === "" ? "." : rel.split(path.sep).join("/");
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

function parseUsedKeys(text: string, file: string): UsedRecord {
  let problem: string | undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    problem = `is not valid JSON (${(error as Error).message})`;
  }
  const record: UsedRecord = new Map();
  if (problem === undefined) {
    const value = raw as { version?: unknown; roots?: unknown } | null;
    if (typeof value !== "object" || value === null || Array.isArray(value)) problem = "is not an object";
    else if (value.version !== VERSION)
      problem = `has version ${JSON.stringify(value.version)}, not ${VERSION}`;
    else if (typeof value.roots !== "object" || value.roots === null || Array.isArray(value.roots))
      problem = `has no "roots" object`;
    else {
      for (const [name, keys] of Object.entries(value.roots)) {
        if (!Array.isArray(keys) || !keys.every((k) => typeof k === "string")) {
          problem = `lists something other than generation keys for the root ${JSON.stringify(name)}`;
          break;
        }
        record.set(name, new Set(keys as string[]));
      }
    }
  }
  if (problem === undefined) return record;
  throw new GrokImageError(
    "GROK_CACHE_CORRUPT",
    `The record of the images builds use, ${file}, ${problem}; it was left untouched.`,
    {
      hint:
        "Restore it from version control, or resolve the merge conflict by keeping the keys of both sides. " +
        "Deleting it is safe only before a build of every project sharing this cache has run again: until then " +
        "`grok-image prune` cannot tell which images those builds use.",
    },
  );
}

function serializeUsedKeys(record: UsedRecord): string {
  const roots: Record<string, string[]> = {};
  for (const name of [...record.keys()].sort()) roots[name] = [...(record.get(name) ?? [])].sort();
  return `${JSON.stringify({ version: VERSION, roots }, null, 2)}\n`;
}
