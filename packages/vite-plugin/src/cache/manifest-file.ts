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
  for (const [key, value] of Object.entries(raw)) {
    const problem = entryProblem(value);
    if (problem) problems.push(`entry ${key}: ${problem}`);
    else entries.set(key, value as ManifestEntry);
  }
  return { entries, problems };
}

export function entryProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return "not an object";
  const e = value as Record<string, unknown>;
  for (const field of ["model", "prompt", "taskId", "createdAt"]) {
    if (typeof e[field] !== "string") return `"${field}" is not a string`;
  }
  if (!Number.isInteger(e.n)) return `"n" is not an integer`;
  for (const field of ["ratio", "resolution", "v"]) {
    if (e[field] !== null && typeof e[field] !== "string") return `"${field}" is neither a string nor null`;
  }
  if (!Array.isArray(e.originals) || e.originals.length === 0) return `"originals" is not a non-empty array`;
  for (const original of e.originals as unknown[]) {
    const o = original as Record<string, unknown> | null;
    if (typeof o !== "object" || o === null) return "an original is not an object";
    if (typeof o.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(o.sha256))
      return "an original has a bad sha256";
    if (typeof o.format !== "string") return "an original has no format";
    for (const field of ["width", "height", "bytes"]) {
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
 * The text of `manifest.json`: keys sorted, fields in a fixed order, two-space indentation, trailing newline.
 * Holds only what the generation was and what was downloaded: no paths, hostnames or mtimes.
 */
export function serializeManifest(entries: Manifest): string {
  const out: Record<string, unknown> = {};
  for (const key of [...entries.keys()].sort()) {
    const entry = entries.get(key) as ManifestEntry;
    out[key] = {
      ...ordered(entry, ENTRY_FIELDS),
      originals: entry.originals.map((o: OriginalRecord) => ordered(o, ORIGINAL_FIELDS)),
    };
  }
  return `${JSON.stringify(out, null, 2)}\n`;
}
