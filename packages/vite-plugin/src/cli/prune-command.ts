import { readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { ImageCache } from "../cache/image-cache.js";
import { TIER_NAMES } from "../directive/models.js";
import { OUTPUT_FORMATS, parseDirective } from "../directive/parse-directive.js";
import { variantName } from "../image/variant-name.js";
import type { Directive, ManifestEntry, OriginalRecord, ResolvedOptions } from "../types.js";
import { type CliIO, EXIT, formatBytes, guardIo, reportError } from "./cli-io.js";
import {
  openExistingCache,
  type ProjectArgs,
  resolveCliOptions,
  scanProject,
  shortKey,
} from "./load-project.js";

export interface PruneArgs extends Omit<ProjectArgs, "tier"> {
  /** List what would be removed and the bytes freed; remove nothing. */
  dryRun?: boolean | undefined;
  /** Prune even when some directives do not parse or none were found (both usually mean a wrong root). */
  force?: boolean | undefined;
  json?: boolean | undefined;
}

/** What a prune removes (or, with `--dry-run`, would remove). */
export interface PrunePlan {
  /** Manifest entries no directive of the tree uses. */
  entries: Array<{ key: string } & Pick<ManifestEntry, "prompt" | "model" | "v" | "taskId" | "createdAt">>;
  /** Originals referenced only by those entries. */
  originals: string[];
  /** Variant files (and sidecars) no cached directive derives any more; rebuilt for free if ever needed. */
  variants: string[];
  bytes: number;
}

/**
 * `grok-image prune [root]`: removes cache entries that no directive in the tree uses, their originals when no
 * other entry shares them, and orphan variants. Pending tasks (already paid, resumable) are never touched.
 *
 * An entry counts as used when any directive of the tree would produce its key under ANY default tier: the config
 * may be unreadable or differ per environment (`tier: process.env.X`), and deleting a paid image on a wrong guess
 * would cost money. For
 * the same reason a variant counts as used under any default format and either provenance/placeholder setting.
 */
export async function pruneCommand(args: PruneArgs, rawIo: CliIO): Promise<number> {
  const io = guardIo(rawIo);
  try {
    const options = await resolveCliOptions(args, io);
    const cache = await openExistingCache(options);
    if (!cache || (cache.keys().length === 0 && (await listVariantFiles(options)).length === 0)) {
      io.stdout.write("Nothing to prune: the cache is empty.\n");
      return EXIT.ok;
    }
    const { uses, errors } = await scanProject(options, args.ignore);
    if (!args.force && (errors.length > 0 || uses.length === 0)) {
      const why =
        errors.length > 0
          ? `${errors.length} directive${errors.length === 1 ? "" : "s"} do not parse, so the entries they use cannot be told apart from unused ones`
          : `no grok: directives were found under ${options.root}, so every cached image would go`;
      io.stderr.write(
        `Refusing to prune: ${why}.\n  hint: Fix the directives (see \`grok-image scan\`) or check the root; --force prunes anyway.\n`,
      );
      return EXIT.failed;
    }
    const plan = await planPrune(
      cache,
      options,
      uses.map((u) => u.directive.raw),
    );
    if (args.json)
      io.stdout.write(`${JSON.stringify({ version: 1, dryRun: Boolean(args.dryRun), ...plan }, null, 2)}\n`);
    else printPlan(io, plan, Boolean(args.dryRun));
    if (!args.dryRun) {
      await cache.remove(plan.entries.map((e) => e.key));
      for (const file of plan.variants) await rm(file, { force: true });
    }
    return EXIT.ok;
  } catch (error) {
    return reportError(io, error);
  }
}

/** Everything a prune would remove; reads sizes but changes nothing. */
async function planPrune(
  cache: ImageCache,
  options: ResolvedOptions,
  raws: readonly string[],
): Promise<PrunePlan> {
  const directives = raws.flatMap((raw) => parseUnderEveryDefault(raw, options));
  const liveKeys = new Set(directives.map((d) => d.generationKey));
  const unused = cache.keys().filter((key) => !liveKeys.has(key));

  const kept = new Set<string>();
  for (const key of cache.keys()) {
    if (liveKeys.has(key)) for (const o of cache.lookup(key)?.originals ?? []) kept.add(o.sha256);
  }
  const freed = new Map<string, OriginalRecord>();
  for (const key of unused) {
    for (const o of cache.lookup(key)?.originals ?? []) if (!kept.has(o.sha256)) freed.set(o.sha256, o);
  }

  const liveVariants = new Set<string>();
  for (const d of directives) {
    const entry = cache.lookup(d.generationKey);
    if (!entry) continue;
    const marks = [true, false, { model: entry.model, prompt: entry.prompt }];
    for (const o of entry.originals) {
      for (const provenance of marks) {
        for (const placeholder of [true, false])
          liveVariants.add(variantName(o.sha256, d.transform, { provenance, placeholder }));
      }
    }
  }
  const variants = (await listVariantFiles(options)).filter((file) => !liveVariants.has(variantBase(file)));

  let bytes = [...freed.values()].reduce((sum, o) => sum + o.bytes, 0);
  for (const file of variants) bytes += (await stat(file).catch(() => undefined))?.size ?? 0;
  return {
    entries: unused.map((key) => {
      const e = cache.lookup(key);
      return {
        key,
        prompt: e?.prompt ?? "",
        model: e?.model ?? "",
        v: e?.v ?? null,
        taskId: e?.taskId ?? "",
        createdAt: e?.createdAt ?? "",
      };
    }),
    originals: [...freed.values()].map((o) => cache.originalPath(o)),
    variants,
    bytes,
  };
}

/** The directive under every default tier and format it could be built with (those it is valid under). */
function parseUnderEveryDefault(raw: string, options: ResolvedOptions): Directive[] {
  const out: Directive[] = [];
  for (const tier of TIER_NAMES) {
    for (const format of OUTPUT_FORMATS) {
      try {
        out.push(parseDirective(raw, { tier, format, quality: options.quality }));
      } catch {
        // Invalid under this default (e.g. ratio= with a lite default): no build with it uses this key.
      }
    }
  }
  return out;
}

/** Files of `variants/` (outputs and sidecars), without temps of live writers. */
async function listVariantFiles(options: ResolvedOptions): Promise<string[]> {
  const dir = path.join(options.cacheDir, "variants");
  const names = await readdir(dir).catch(() => [] as string[]);
  return names
    .filter((n) => !n.startsWith(".") && !n.endsWith(".tmp"))
    .sort()
    .map((n) => path.join(dir, n));
}

function variantBase(file: string): string {
  const name = path.basename(file);
  return name.slice(0, name.indexOf(".") === -1 ? name.length : name.indexOf("."));
}

function printPlan(io: CliIO, plan: PrunePlan, dryRun: boolean): void {
  if (plan.entries.length === 0 && plan.variants.length === 0) {
    io.stdout.write("Nothing to prune: every cached image is used.\n");
    return;
  }
  for (const e of plan.entries) {
    const v = e.v === null ? "" : ` v=${e.v}`;
    const tier = e.model.replace("grok-imagine/text-to-image-", "");
    io.stdout.write(
      `unused   ${shortKey(e.key)}  ${JSON.stringify(e.prompt)} [${tier}]${v}  task ${e.taskId}\n`,
    );
  }
  const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  const outputs = plan.variants.filter((f) => !f.endsWith(".json")).length;
  io.stdout.write(
    `${dryRun ? "Would remove" : "Removed"} ${count(plan.entries.length, "entry", "entries")}, ` +
      `${count(plan.originals.length, "original", "originals")} and ` +
      `${count(outputs, "orphan variant", "orphan variants")}, freeing ${formatBytes(plan.bytes)}.\n`,
  );
  if (dryRun)
    io.stdout.write("Nothing was removed. Run `grok-image prune` without --dry-run to remove them.\n");
}
