import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import type { ManifestEntry, OriginalRecord } from "../types.js";
import { hashFile } from "./hash-file.js";
import type { PendingRecord } from "./pending-journal.js";
import { parseVariantMeta, type VariantStore } from "./variant-store.js";

/** One damaged thing: `grok-image verify` exits non-zero when there is any. */
export interface VerifyProblem {
  kind: "manifest" | "original" | "variant";
  /** Absolute path of the damaged file. */
  file: string;
  /** The generation key, when the problem belongs to one entry. */
  key?: string;
  message: string;
  /** An original that is not there at all (rather than damaged): a shared cache may hold it (verify-command.ts). */
  absent?: true;
}

export interface VerifyReport {
  /** True when nothing is damaged (notes do not count). */
  ok: boolean;
  entries: number;
  /** Originals referenced by the manifest that were checked. */
  originals: number;
  /** Variants (file + sidecar) that were checked. */
  variants: number;
  problems: VerifyProblem[];
  /** Harmless findings: unreferenced originals, variants without sidecar (rebuilt on use), pending tasks. */
  notes: string[];
}

/** What `verifyCache` reads from a cache. */
export interface VerifiableCache {
  readonly dir: string;
  readonly originalsDir: string;
  readonly variants: VariantStore;
  readonly manifestProblems: readonly string[];
  keys(): string[];
  lookup(key: string): ManifestEntry | undefined;
  originalPath(record: OriginalRecord): string;
  originalProblem(record: OriginalRecord): Promise<string | undefined>;
  listPending(): Promise<Array<{ key: string; record: PendingRecord }>>;
  pendingPath(key: string): string;
}

/** Every original against its hash, every manifest reference present, every variant against its sidecar. */
export async function verifyCache(cache: VerifiableCache): Promise<VerifyReport> {
  const problems: VerifyProblem[] = [];
  const notes: string[] = [];
  const manifestFile = join(cache.dir, "manifest.json");
  for (const message of cache.manifestProblems)
    problems.push({ kind: "manifest", file: manifestFile, message });

  const referenced = new Set<string>();
  let originals = 0;
  for (const key of cache.keys()) {
    for (const record of cache.lookup(key)?.originals ?? []) {
      const file = cache.originalPath(record);
      if (referenced.has(file)) continue;
      referenced.add(file);
      originals++;
      const message = await cache.originalProblem(record);
      if (message) {
        problems.push({
          kind: "original",
          file,
          key,
          message,
          ...(existsSync(file) ? {} : { absent: true }),
        });
      }
    }
  }
  for (const name of await listFiles(cache.originalsDir)) {
    const file = join(cache.originalsDir, name);
    if (!referenced.has(file)) notes.push(`${file} is not referenced by any manifest entry`);
  }

  const variants = await verifyVariants(cache.variants, problems, notes);
  for (const { key, record } of await cache.listPending()) {
    if (record.outcome) {
      // Not damage: the task is kept on purpose so that no build pays for the key again on its own.
      notes.push(
        `generation ${key}: task ${record.taskId} cannot be used, and builds fail on it until ${cache.pendingPath(key)} is deleted (a new paid task): ${record.outcome.message}`,
      );
    } else notes.push(`generation ${key} has a pending task that the next build resumes`);
  }
  return { ok: problems.length === 0, entries: cache.keys().length, originals, variants, problems, notes };
}

async function verifyVariants(
  store: VariantStore,
  problems: VerifyProblem[],
  notes: string[],
): Promise<number> {
  const names = await listFiles(store.dir);
  const sidecars = new Set(names.filter((n) => n.endsWith(".json")).map((n) => n.slice(0, -".json".length)));
  let checked = 0;
  for (const name of [...sidecars].sort()) {
    const sidecarFile = store.sidecarPath(name);
    const meta = parseVariantMeta(await readFile(sidecarFile, "utf8").catch(() => ""));
    if (!meta) {
      problems.push({ kind: "variant", file: sidecarFile, message: `${sidecarFile} is not a valid sidecar` });
      continue;
    }
    checked++;
    const file = store.path(name, meta.format);
    const found = await hashFile(file);
    if (!found) {
      problems.push({ kind: "variant", file, message: `${file} is missing (its sidecar exists)` });
    } else if (found.bytes !== meta.bytes) {
      problems.push({
        kind: "variant",
        file,
        message: `${file} has ${found.bytes} bytes instead of ${meta.bytes}`,
      });
    } else if (meta.sha256 !== undefined && found.sha256 !== meta.sha256) {
      problems.push({
        kind: "variant",
        file,
        message: `${file} does not match its sha256 (the next build derives it again, at no cost)`,
      });
    } else {
      if (meta.sha256 === undefined) notes.push(`${sidecarFile} records no sha256 (derived again when used)`);
      const header = await sharp(file)
        .metadata()
        .catch(() => undefined);
      if (!header || header.width !== meta.width || header.height !== meta.height) {
        problems.push({ kind: "variant", file, message: `${file} does not decode as its sidecar describes` });
      }
    }
  }
  for (const name of names) {
    if (name.endsWith(".json")) continue;
    const base = name.slice(0, name.lastIndexOf("."));
    if (!sidecars.has(base)) notes.push(`${join(store.dir, name)} has no sidecar (rebuilt when used)`);
  }
  return checked;
}

/** Regular entries of a directory, without dot files (temps of live writers). */
async function listFiles(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries
      .filter((e) => e.isFile() && !e.name.startsWith("."))
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}
