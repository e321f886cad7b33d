import type { ManifestEntry, OriginalRecord } from "../types.js";

/** The manifest in memory: generation key -> entry. */
export type Manifest = Map<string, ManifestEntry>;

/** What parsing found: the valid entries, and what was wrong with the rest (each dropped entry is a miss). */
export interface ParsedManifest {
  entries: Manifest;
  problems: string[];
}

const ENTRY_FIELDS = ["model", "prompt", "n", "ratio", "resolution", "v", "taskId", "createdAt", "originals"];
const ORIGINAL_FIELDS = ["sha256", "width", "height", "format", "bytes"];

/** Thrown by `parseManifest` when the file is not a JSON object at all (merge conflict, truncation). */
export class ManifestSyntaxError extends Error {
  override name = "ManifestSyntaxError";
}

/**
 * Parses `manifest.json`. Invalid JSON (or not an object) throws `ManifestSyntaxError`: the caller decides,
 * because dropping the whole file would pay for every image again. A malformed entry is only dropped and
 * reported: that one generation becomes a miss.
 */
export function parseManifest(text: string): ParsedManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ManifestSyntaxError((error as Error).message);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ManifestSyntaxError("the top level is not an object of generation keys");
  }
  const entries: Manifest = new Map();
  const problems: string[] = [];
  for (const key of Object.keys(raw)) {
    const value = (raw as Record<string, unknown>)[key];
    const problem = entryProblem(value);
    if (problem) problems.push(`entry ${key}: ${problem}`);
    else entries.set(key, value as ManifestEntry);
  }
  return { entries, problems };
}

const STRING_FIELDS = ["model", "prompt", "taskId", "createdAt"] as const;
const NULLABLE_FIELDS = ["ratio", "resolution", "v"] as const;
const SIZE_FIELDS = ["width", "height", "bytes"] as const;
const SHA256 = /^[0-9a-f]{64}$/;

export function entryProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return "not an object";
  const e = value as Record<string, unknown>;
  for (const field of STRING_FIELDS) {
    if (typeof e[field] !== "string") return `"${field}" is not a string`;
  }
  if (!Number.isInteger(e.n)) return `"n" is not an integer`;
  for (const field of NULLABLE_FIELDS) {
    if (e[field] !== null && typeof e[field] !== "string") return `"${field}" is neither a string nor null`;
  }
  if (!Array.isArray(e.originals) || e.originals.length === 0) return `"originals" is not a non-empty array`;
  for (const original of e.originals as unknown[]) {
    const o = original as Record<string, unknown> | null;
    if (typeof o !== "object" || o === null) return "an original is not an object";
    if (typeof o.sha256 !== "string" || !SHA256.test(o.sha256)) return "an original has a bad sha256";
    if (typeof o.format !== "string") return "an original has no format";
    for (const field of SIZE_FIELDS) {
      if (!Number.isInteger(o[field]) || (o[field] as number) < 0) return `an original has a bad "${field}"`;
    }
  }
  return undefined;
}

/** Known fields first in a fixed order, then any fields a newer version added, sorted: stable diffs. */
function ordered(value: object, fields: readonly string[]): Record<string, unknown> {
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const field of fields) if (field in source) out[field] = source[field];
  for (const field of Object.keys(source).sort()) if (!(field in out)) out[field] = source[field];
  return out;
}

/**
 * Each entry's bytes as they appear in the file (`  "key": {...}`, indented one level), by entry object: a write
 * serializes only entries it has not written before and hands the file system the pieces as they are, so
 * writing a manifest of N entries allocates no N-sized string (such strings are only freed by a full GC).
 * Entries are never mutated once parsed or committed, so the bytes cannot go stale.
 */
const entryBytes = new WeakMap<ManifestEntry, { key: string; bytes: Buffer }>();
const OPEN = Buffer.from("{\n");
const SEPARATOR = Buffer.from(",\n");
const CLOSE = Buffer.from("\n}\n");
const EMPTY = Buffer.from("{}\n");

function serializedEntry(key: string, entry: ManifestEntry): Buffer {
  const cached = entryBytes.get(entry);
  if (cached?.key === key) return cached.bytes;
  const value = {
    ...ordered(entry, ENTRY_FIELDS),
    originals: entry.originals.map((o: OriginalRecord) => ordered(o, ORIGINAL_FIELDS)),
  };
  // JSON.stringify escapes newlines inside strings, so every "\n" here is structural: indent it one level.
  const text = `  ${JSON.stringify(key)}: ${JSON.stringify(value, null, 2).replaceAll("\n", "\n  ")}`;
  // An own allocation, not a slice of Node's shared 8 KiB pool: a kept slice would pin its whole pool block, about
  // 8 KiB of memory per manifest entry for the life of the process.
  const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(text));
  bytes.write(text);
  entryBytes.set(entry, { key, bytes });
  return bytes;
}

/**
 * The bytes of `manifest.json`, in pieces to write one after the other: keys sorted, fields in a fixed order,
 * two-space indentation, trailing newline. The same bytes as `JSON.stringify(object, null, 2)` of the sorted
 * object. Holds only what the generation was and what was downloaded: no paths, hostnames or mtimes.
 */
export function manifestChunks(entries: Manifest): Buffer[] {
  if (entries.size === 0) return [EMPTY];
  const chunks: Buffer[] = [OPEN];
  for (const key of [...entries.keys()].sort()) {
    if (chunks.length > 1) chunks.push(SEPARATOR);
    chunks.push(serializedEntry(key, entries.get(key) as ManifestEntry));
  }
  chunks.push(CLOSE);
  return chunks;
}

/** The text of `manifest.json` (see `manifestChunks`) as one string. */
export function serializeManifest(entries: Manifest): string {
  return Buffer.concat(manifestChunks(entries)).toString("utf8");
}
