import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import {
  createTrashFolder,
  expireTrash,
  listTrash,
  moveVariantsToTrash,
  parseTrashName,
  readTrash,
  restoreTrash,
  type TrashFolder,
  trashRoot,
} from "../cache/cache-trash.js";
import { type ImageCache, openCache } from "../cache/image-cache.js";
import { readUsedKeys } from "../cache/used-keys.js";
import { TIER_NAMES } from "../directive/models.js";
import { OUTPUT_FORMATS, parseDirective } from "../directive/parse-directive.js";
import { GrokImageError } from "../errors.js";
import { clampTransform, outputTransforms } from "../image/output-shapes.js";
import { variantName } from "../image/variant-name.js";
import type { Directive, ManifestEntry, OriginalRecord, ResolvedOptions } from "../types.js";
import { type CliIO, EXIT, formatBytes, guardIo, isCi, reportError } from "./cli-io.js";
import {
  displayPath,
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
  /** Prune without asking, on a terminal too (elsewhere, and with `CI` set, prune never asks). */
  yes?: boolean | undefined;
  /** Bring back what a prune moved to the trash: `true` the most recent folder, a string the folder of that time. */
  restore?: string | boolean | undefined;
  json?: boolean | undefined;
}

/** What a prune removes (or, with `--dry-run`, would remove). */
export interface PrunePlan {
  /** Manifest entries no directive of the tree uses and no build recorded using. */
  entries: Array<{ key: string } & Pick<ManifestEntry, "prompt" | "model" | "v" | "taskId" | "createdAt">>;
  /** Originals referenced only by those entries. */
  originals: string[];
  /** Variant files (and sidecars) no cached directive derives any more; rebuilt for free if ever needed. */
  variants: string[];
  bytes: number;
  /** Entries kept only because a build recorded using them (`used.json`): the scan does not see their directive. */
  keptAsUsed: number;
}

/**
 * `grok-image prune [root]`: moves cache entries that no directive in the tree uses and no build recorded using,
 * their originals when no other entry shares them, and orphan variants to `<cacheDir>/trash/<time>/`, from where
 * `--restore` brings them back; trash folders older than 30 days are emptied. Pending tasks (already paid,
 * resumable) are never touched. On a terminal it only shows what it would do, unless `--yes`.
 *
 * An entry counts as used when any directive of the tree would produce its key under ANY default tier: the config
 * may be unreadable or differ per environment (`tier: process.env.X`), and deleting a paid image on a wrong guess
 * would cost money. For the same reason a variant counts as used under any default format and either
 * provenance/placeholder setting. Keys a build recorded (`used.json`) count as used too: a template-literal
 * dynamic import or a directive built at run time never shows up in a scan.
 */
export async function pruneCommand(args: PruneArgs, rawIo: CliIO): Promise<number> {
  const io = guardIo(rawIo);
  try {
    const options = await resolveCliOptions(args, io);
    if (args.restore !== undefined && args.restore !== false) return await restoreCommand(args, options, io);
    // A person at a terminal sees the list before anything moves; scripts and CI have said what they want.
    const confirmed = args.yes === true || io.stdout.isTTY !== true || isCi(io.env);
    const apply = !args.dryRun && confirmed;
    const cache = await openExistingCache(options);
    if (!cache || (cache.keys().length === 0 && (await listVariantFiles(options)).length === 0)) {
      if (!args.json) io.stdout.write("Nothing to prune: the cache is empty.\n");
      const expired = cache ? await reportExpiry(io, options, apply, Boolean(args.json)) : [];
      if (args.json)
        io.stdout.write(
          `${JSON.stringify({ version: 1, dryRun: !apply, ...EMPTY_PLAN, trash: null, expiredTrash: expired }, null, 2)}\n`,
        );
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
      await readUsedKeys(options.cacheDir),
    );
    const empty = plan.entries.length === 0 && plan.variants.length === 0;
    const folder = apply && !empty ? await createTrashFolder(options.cacheDir) : undefined;
    if (folder) {
      await cache.remove(
        plan.entries.map((e) => e.key),
        { trashDir: folder.dir },
      );
      await moveVariantsToTrash(plan.variants, folder);
    }
    if (!args.json) printPlan(io, plan, { apply, asked: !args.dryRun && !confirmed, folder, options });
    const expired = await reportExpiry(io, options, apply, Boolean(args.json));
    if (args.json) {
      const report = {
        version: 1,
        dryRun: !apply,
        ...plan,
        trash: folder?.dir ?? null,
        expiredTrash: expired,
      };
      io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    }
    if (args.json && !args.dryRun && !confirmed && !empty)
      io.stderr.write("Nothing was moved: rerun with --yes to move them to the trash.\n");
    return EXIT.ok;
  } catch (error) {
    return reportError(io, error);
  }
}

const EMPTY_PLAN: PrunePlan = { entries: [], originals: [], variants: [], bytes: 0, keptAsUsed: 0 };

/** Empties trash folders older than 30 days (only when `apply`; otherwise names those it would), and says so. */
async function reportExpiry(
  io: CliIO,
  options: ResolvedOptions,
  apply: boolean,
  json: boolean,
): Promise<string[]> {
  const due = await expireTrash(options.cacheDir, { dryRun: !apply });
  if (!json) {
    for (const folder of due) {
      io.stdout.write(
        `${apply ? "Emptied" : "Would empty"} the trash folder ${folder.name} (older than 30 days): ` +
          `${count(folder.contents.entries.size, "entry", "entries")}, ${formatBytes(folder.contents.bytes)}` +
          `${apply ? " deleted for good" : ""}.\n`,
      );
    }
  }
  return due.map((f) => f.name);
}

/** Everything a prune would remove; reads sizes but changes nothing. */
async function planPrune(
  cache: ImageCache,
  options: ResolvedOptions,
  raws: readonly string[],
  usedByBuilds: ReadonlySet<string>,
): Promise<PrunePlan> {
  const directives = raws.flatMap((raw) => parseUnderEveryDefault(raw, options));
  const scanned = new Set(directives.map((d) => d.generationKey));
  const liveKeys = new Set([...scanned, ...usedByBuilds]);
  const unused = cache.keys().filter((key) => !liveKeys.has(key));
  const keptAsUsed = cache.keys().filter((key) => usedByBuilds.has(key) && !scanned.has(key)).length;

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
      // Both hosts' handoffs (Astro's source file, plain Vite's encoded file), clamped as the build clamps them,
      // and every file of an as=srcset/picture shape.
      const transforms = [d.transform, ...(d.output.as === "metadata" ? [] : outputTransforms(d))];
      for (const transform of new Set([...transforms, ...transforms.map((t) => clampTransform(t, o))])) {
        for (const provenance of marks) {
          for (const placeholder of [true, false, "color"] as const) {
            for (const source of [false, true])
              liveVariants.add(variantName(o.sha256, transform, { provenance, placeholder, source }));
          }
        }
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
    keptAsUsed,
  };
}

/** The directive under every default tier and format it could be built with (those it is valid under). */
function parseUnderEveryDefault(raw: string, options: ResolvedOptions): Directive[] {
  const out: Directive[] = [];
  for (const tier of TIER_NAMES) {
    for (const format of OUTPUT_FORMATS) {
      try {
        out.push(parseDirective(raw, { ...options, tier, format }));
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

const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

interface PrintMode {
  /** The plan was carried out. */
  apply: boolean;
  /** Not carried out because a terminal needs --yes (rather than because of --dry-run). */
  asked: boolean;
  folder: TrashFolder | undefined;
  options: ResolvedOptions;
}

function printPlan(io: CliIO, plan: PrunePlan, mode: PrintMode): void {
  if (plan.keptAsUsed > 0) {
    io.stdout.write(
      `Kept ${count(plan.keptAsUsed, "entry", "entries")} that no directive of the tree names but a build recorded using (used.json).\n`,
    );
  }
  if (plan.entries.length === 0 && plan.variants.length === 0) {
    io.stdout.write("Nothing to prune: every cached image is used.\n");
    return;
  }
  for (const e of plan.entries) io.stdout.write(`${describe("unused  ", e.key, e)}\n`);
  const outputs = plan.variants.filter((f) => !f.endsWith(".json")).length;
  io.stdout.write(
    `${mode.apply ? "Removed" : "Would remove"} ${count(plan.entries.length, "entry", "entries")}, ` +
      `${count(plan.originals.length, "original", "originals")} and ` +
      `${count(outputs, "orphan variant", "orphan variants")}, freeing ${formatBytes(plan.bytes)}.\n`,
  );
  if (mode.folder) {
    io.stdout.write(
      `Moved to ${displayPath(mode.options.root, mode.folder.dir)}; \`grok-image prune --restore\` brings them back ` +
        "(the trash is emptied after 30 days).\n",
    );
  } else if (mode.asked) {
    io.stdout.write(
      "Nothing was moved. Rerun with --yes to move them to the trash (`--restore` brings them back).\n",
    );
  } else {
    io.stdout.write(
      "Nothing was moved. Run `grok-image prune` without --dry-run to move them to the trash.\n",
    );
  }
}

/** `grok-image prune --restore [time]`: puts a trash folder back into the cache. */
async function restoreCommand(args: PruneArgs, options: ResolvedOptions, io: CliIO): Promise<number> {
  const folders = await listTrash(options.cacheDir);
  const trashDir = displayPath(options.root, trashRoot(options.cacheDir));
  let folder: TrashFolder | undefined;
  if (typeof args.restore === "string" && args.restore !== "") {
    const time = parseTrashName(args.restore);
    folder = folders.find((f) => f.time.getTime() === time?.getTime());
    if (!folder) {
      throw new GrokImageError(
        "GROK_BAD_OPTION",
        `There is no trash folder ${args.restore} in ${trashDir}.`,
        {
          hint:
            folders.length > 0
              ? `Pass one of: ${folders.map((f) => f.name).join(", ")}; or --restore alone for the most recent.`
              : "The trash is empty: nothing was pruned in the last 30 days.",
        },
      );
    }
  } else {
    folder = folders.at(-1);
  }
  if (!folder) {
    io.stdout.write(`Nothing to restore: ${trashDir} is empty.\n`);
    return EXIT.ok;
  }
  if (args.dryRun) {
    const contents = await readTrash(folder);
    for (const [key, entry] of contents.entries) io.stdout.write(`${describe("trashed ", key, entry)}\n`);
    io.stdout.write(
      `Would restore ${count(contents.entries.size, "entry", "entries")}, ` +
        `${count(contents.originals.length, "original", "originals")} and ` +
        `${count(contents.variants.filter((f) => !f.endsWith(".json")).length, "variant", "variants")} ` +
        `from ${folder.name}. Nothing was restored.\n`,
    );
    return EXIT.ok;
  }
  const report = await restoreTrash(await openCache(options.cacheDir), folder);
  const damaged = report.kept.filter((k) => !k.reason.startsWith("the cache holds"));
  if (args.json) {
    const summary = (list: Array<[string, ManifestEntry]>) => list.map(([key, e]) => ({ key, ...pick(e) }));
    const json = {
      version: 1,
      restoredFrom: folder.name,
      restored: summary(report.restored),
      kept: report.kept.map((k) => ({ key: k.key, ...pick(k.entry), reason: k.reason })),
      originals: report.originals,
      variants: report.variants,
    };
    io.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
    return damaged.length > 0 ? EXIT.failed : EXIT.ok;
  }
  for (const [key, entry] of report.restored) io.stdout.write(`${describe("restored", key, entry)}\n`);
  for (const k of report.kept) io.stdout.write(`${describe("kept    ", k.key, k.entry)}: ${k.reason}\n`);
  io.stdout.write(
    `Restored ${count(report.restored.length, "entry", "entries")}, ` +
      `${count(report.originals, "original", "originals")} and ${count(report.variants, "variant", "variants")} ` +
      `from ${displayPath(options.root, folder.dir)}` +
      `${report.removed ? "." : `; what was not restored stays there.`}\n`,
  );
  if (damaged.length > 0) {
    io.stderr.write(
      "Some trashed images are damaged or missing and were not restored; `grok-image verify` checks the cache.\n",
    );
    return EXIT.failed;
  }
  return EXIT.ok;
}

function pick(e: ManifestEntry) {
  return { prompt: e.prompt, model: e.model, v: e.v, taskId: e.taskId, createdAt: e.createdAt };
}

/** One listing line for an entry: status, short key, prompt, tier, v, task. */
function describe(
  status: string,
  key: string,
  e: Pick<ManifestEntry, "prompt" | "model" | "v" | "taskId">,
): string {
  const v = e.v === null ? "" : ` v=${e.v}`;
  const tier = e.model.replace("grok-imagine/text-to-image-", "");
  return `${status} ${shortKey(key)}  ${JSON.stringify(e.prompt)} [${tier}]${v}  task ${e.taskId}`;
}
