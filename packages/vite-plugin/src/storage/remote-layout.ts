import { fileExtension } from "../cache/file-extension.js";
import { entryProblem } from "../cache/manifest-file.js";
import { generationKey } from "../directive/generation-key.js";
import type { Generation, ManifestEntry, OriginalRecord } from "../types.js";

/*
 * The shared cache's objects, under the configured prefix:
 *
 *   originals/<sha256>.<ext>   the downloaded bytes, content-addressed: written once (create-only), never changed
 *   entries/<key>.json         one manifest entry per generation key: written once, after its originals (the
 *                              commit marker); replaced only when its originals turned out damaged
 *   claims/<key>.json          who is generating a key right now, and the task id it paid for (see claim.ts)
 *
 * Nothing else is shared: variants are derived on each machine (free), and `manifest.json` is a local index.
 */

export const ENTRIES = "entries/";
export const ORIGINALS = "originals/";
export const CLAIMS = "claims/";

const ENTRY_SCHEMA = "grok-image/shared-entry/1";

export function entryName(key: string): string {
  return `${ENTRIES}${key}.json`;
}

export function originalName(record: OriginalRecord): string {
  return `${ORIGINALS}${record.sha256}.${fileExtension(record.format)}`;
}

export function claimName(key: string): string {
  return `${CLAIMS}${key}.json`;
}

/** The generation key of an `entries/<key>.json` name, or undefined for any other name. */
export function keyOfEntryName(name: string): string | undefined {
  const m = /^entries\/([A-Za-z0-9_-]{1,128})\.json$/.exec(name);
  return m?.[1];
}

export function serializeEntry(key: string, entry: ManifestEntry): Buffer {
  return Buffer.from(`${JSON.stringify({ schema: ENTRY_SCHEMA, key, entry }, null, 2)}\n`);
}

/**
 * The entry an `entries/<key>.json` object holds, or what is wrong with it. An entry must describe the generation
 * its name says (its own fields hash to the key), so a misplaced or hand-edited object is never served as another
 * prompt's image.
 */
export function parseEntry(key: string, body: Buffer): { entry: ManifestEntry } | { problem: string } {
  let value: { schema?: unknown; key?: unknown; entry?: unknown };
  try {
    value = JSON.parse(body.toString("utf8")) as typeof value;
  } catch {
    return { problem: "it is not JSON" };
  }
  if (value?.schema !== ENTRY_SCHEMA) return { problem: `its schema is not ${ENTRY_SCHEMA}` };
  if (value.key !== key) return { problem: `it names the key ${JSON.stringify(value.key)}` };
  const problem = entryProblem(value.entry);
  if (problem) return { problem };
  const entry = value.entry as ManifestEntry;
  // The format names a file (`originals/<sha256>.<ext>`): anything but a short word could point outside the cache.
  if (entry.originals.some((o) => !/^[a-z0-9]{1,10}$/.test(o.format)))
    return { problem: "an original has a bad format" };
  const generation = { ...entry, tier: "lite" } as unknown as Generation;
  if (generationKey(generation) !== key)
    return { problem: "its model, prompt and parameters belong to another key" };
  return { entry };
}
