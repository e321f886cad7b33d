import { estimateCost, roundUsd } from "../directive/models.js";
import { formatUsd } from "../engine/format-event.js";
import type { ResolvedOptions, Tier } from "../types.js";
import { type CliIO, EXIT, guardIo, reportError } from "./cli-io.js";
import {
  displayPath,
  openExistingCache,
  type ProjectArgs,
  resolveCliOptions,
  scanProject,
  shortKey,
} from "./load-project.js";
import { askSharedCache } from "./shared-cache-command.js";

export interface ScanArgs extends ProjectArgs {
  /** Print the {@link ScanReport} as JSON on stdout instead of the listing. */
  json?: boolean | undefined;
}

/**
 * `cached`: in the manifest. `shared`: not here, but in the shared cache (`remoteCache`): a build fetches it and
 * pays nothing. `pending`: submitted (and paid) by an earlier run that did not finish; the next generate resumes it
 * for free. `missing`: a build in generate mode pays for it.
 */
export type ScanStatus = "cached" | "shared" | "pending" | "missing";

/**
 * The stable shape of `grok-image scan --json` (`version` changes if a field ever changes meaning). Paths are
 * relative to `root` and `/`-separated; amounts are US dollars.
 */
export interface ScanReport {
  version: 1;
  /** Absolute project root. */
  root: string;
  /** Absolute cache directory. */
  cacheDir: string;
  /** Every directive that parsed, in file order then source order. */
  directives: Array<{
    file: string;
    line: number;
    /** As written, e.g. `grok:a misty forest?tier=pro&w=640`. */
    directive: string;
    status: ScanStatus;
    /** The generation key (sha256 hex); `shortKey` is its first 8 digits. */
    key: string;
    shortKey: string;
    model: string;
    tier: Tier;
    prompt: string;
    n: number;
    v: string | null;
    /** What the generation costs (or cost), whatever its status. */
    costUsd: number;
  }>;
  /** Directives that did not parse: a build would fail on each. */
  errors: Array<{
    file: string;
    line: number;
    directive: string;
    code: string;
    message: string;
    hint: string | null;
  }>;
  summary: {
    directives: number;
    /** Distinct generation keys among the directives. */
    generations: number;
    cached: number;
    /** In the shared cache only: fetched by a build, not paid. */
    shared: number;
    pending: number;
    missing: number;
    errors: number;
    /** What generating the missing generations would cost; pending ones are already paid. */
    estimatedCostUsd: number;
  };
}

/** `grok-image scan [root]`: which directives the tree holds, which are cached, and what the rest would cost. */
export async function scanCommand(args: ScanArgs, rawIo: CliIO): Promise<number> {
  const io = guardIo(rawIo);
  try {
    const report = await buildScanReport(args, io);
    if (args.json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else printReport(report, io);
    return report.errors.length > 0 ? EXIT.failed : EXIT.ok;
  } catch (error) {
    return reportError(io, error);
  }
}

async function buildScanReport(args: ProjectArgs, io: CliIO): Promise<ScanReport> {
  const options = await resolveCliOptions(args, io);
  const { uses, errors } = await scanProject(options, args.ignore);
  const cache = await openExistingCache(options);
  const pending = new Set((await cache?.listPending())?.map((p) => p.key));
  const local = (key: string) => cache?.lookup(key) !== undefined || pending.has(key);
  const shared = await sharedKeys(
    options,
    [...new Set(uses.map((u) => u.directive.generationKey))].filter((k) => !local(k)),
    io,
  );
  const statusOf = (key: string): ScanStatus =>
    cache?.lookup(key) ? "cached" : pending.has(key) ? "pending" : shared.has(key) ? "shared" : "missing";

  const directives = uses.map(({ directive, importer, line, written }) => ({
    file: displayPath(options.root, importer),
    line,
    directive: written ?? directive.raw,
    status: statusOf(directive.generationKey),
    key: directive.generationKey,
    shortKey: shortKey(directive.generationKey),
    model: directive.generation.model,
    tier: directive.generation.tier,
    prompt: directive.generation.prompt,
    n: directive.generation.n,
    v: directive.generation.v,
    costUsd: estimateCost(directive.generation),
  }));
  const byKey = new Map(directives.map((d) => [d.key, d]));
  const count = (status: ScanStatus) => [...byKey.values()].filter((d) => d.status === status).length;
  const estimatedCostUsd = roundUsd(
    [...byKey.values()].filter((d) => d.status === "missing").reduce((sum, d) => sum + d.costUsd, 0),
  );
  return {
    version: 1,
    root: options.root,
    cacheDir: options.cacheDir,
    directives,
    errors: errors.map(({ raw, written, importer, line, error }) => ({
      file: displayPath(options.root, importer),
      line,
      directive: written ?? raw,
      code: error.code,
      message: error.message,
      hint: error.hint ?? null,
    })),
    summary: {
      directives: directives.length,
      generations: byKey.size,
      cached: count("cached"),
      shared: count("shared"),
      pending: count("pending"),
      missing: count("missing"),
      errors: errors.length,
      estimatedCostUsd,
    },
  };
}

function printReport(report: ScanReport, io: CliIO): void {
  const { summary } = report;
  if (summary.directives === 0 && summary.errors === 0) {
    io.stdout.write(`No grok: directives found under ${report.root}\n`);
    return;
  }
  for (const d of report.directives) {
    const cost =
      d.status === "missing"
        ? `  ${formatUsd(d.costUsd)}`
        : d.status === "pending"
          ? "  (paid, resumes)"
          : d.status === "shared"
            ? "  (fetched, not paid)"
            : "";
    io.stdout.write(`${d.status.padEnd(8)} ${d.shortKey}  ${d.file}:${d.line}  ${d.directive}${cost}\n`);
  }
  for (const e of report.errors) {
    io.stdout.write(`${"error".padEnd(8)} ${"".padEnd(8)}  ${e.file}:${e.line}  ${e.directive}\n`);
    io.stdout.write(`${indent(e.hint ? `${e.message}\nhint: ${e.hint}` : e.message)}\n`);
  }
  const parts = [`${summary.cached} cached`];
  if (summary.shared > 0) parts.push(`${summary.shared} in the shared cache (fetched, not paid)`);
  if (summary.pending > 0) parts.push(`${summary.pending} pending (already paid)`);
  parts.push(`${summary.missing} missing`);
  let line = `${summary.directives} directive${summary.directives === 1 ? "" : "s"}, ${summary.generations} generation${summary.generations === 1 ? "" : "s"}: ${parts.join(", ")}`;
  if (summary.missing > 0) line += ` (about ${formatUsd(summary.estimatedCostUsd)} to generate)`;
  if (summary.errors > 0) line += `; ${summary.errors} bad directive${summary.errors === 1 ? "" : "s"}`;
  io.stdout.write(`${line}\n`);
}

/**
 * Which of `keys` (not in the local cache) the shared cache holds; none without one. A store that cannot be read
 * is said on stderr and changes nothing: the scan still lists those keys as missing, which a build would then
 * refuse to pay for until the store answers.
 */
async function sharedKeys(
  options: ResolvedOptions,
  keys: readonly string[],
  io: CliIO,
): Promise<Set<string>> {
  if (!options.remoteCache || keys.length === 0) return new Set();
  const asked = await askSharedCache(options, (shared) => shared.holds(keys));
  if ("value" in asked) return asked.value;
  io.stderr.write(
    `The shared cache could not be read, so the missing ones may be there: ${asked.unreadable}\n`,
  );
  return new Set();
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");
}
