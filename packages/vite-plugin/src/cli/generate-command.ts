import { badDirectivesError } from "../directive/bad-directives-error.js";
import { createEngine } from "../engine/create-engine.js";
import type { BatchSummary, Engine } from "../engine/engine-types.js";
import { formatSummary } from "../engine/format-event.js";
import { formatError, type GrokImageError } from "../errors.js";
import type { GrokImageOptions, Mode } from "../types.js";
import { type CliIO, EXIT, exitCodeFor, guardIo, reportError } from "./cli-io.js";
import {
  displayPath,
  type FoundUse,
  type ProjectArgs,
  resolveCliOptions,
  scanProject,
} from "./load-project.js";
import { createProgress } from "./progress.js";

export interface GenerateArgs extends ProjectArgs {
  /**
   * `generate` unless given: the command exists to generate, so GROK_IMAGE_MODE, the config's `mode` and the
   * `frozen` default under CI do not apply. `--mode frozen` turns it into a check that fails on any miss.
   */
  mode?: string | undefined;
  /** Tasks in flight at once (`auto` or a number). @default the config's `concurrency`, else "auto" */
  concurrency?: number | string | undefined;
  /** USD budget for this run. @default the config's `maxCost`, else GROK_IMAGE_MAX_COST, else no limit */
  maxCost?: number | string | undefined;
  /** Print a JSON result on stdout (progress stays on stderr). */
  json?: boolean | undefined;
}

/** One directive that did not get its images. */
interface Failure {
  directive: string;
  file: string;
  line: number;
  code: string;
  message: string;
  taskId: string | null;
}

/**
 * `grok-image generate [root]`: pays for and downloads every cache miss of the tree ahead of a build, through
 * the same engine (same options, env, budget, journal and locks) a build uses. Variants are not derived: the
 * build derives them from the cached originals at no API cost.
 *
 * Exit codes: 0 everything is cached now; 1 a directive failed, did not parse, or the batch was refused (budget,
 * frozen); 2 bad flags or configuration, including a missing API key when something needs generating.
 */
export async function generateCommand(args: GenerateArgs, rawIo: CliIO): Promise<number> {
  const io = guardIo(rawIo);
  let engine: Engine | undefined;
  const progress = createProgress(io.stderr, io.env);
  try {
    const flags: GrokImageOptions = {};
    if (args.mode !== undefined) flags.mode = args.mode as Mode;
    if (args.concurrency !== undefined) flags.concurrency = toNumberOrRaw(args.concurrency) as number;
    if (args.maxCost !== undefined) flags.maxCost = toNumberOrRaw(args.maxCost) as number;
    const options = await resolveCliOptions(args, io, flags, { mode: "generate" });
    const { uses, errors } = await scanProject(options, args.ignore);
    const failures: Failure[] = errors.map((e) =>
      failure(e.error, e.written ?? e.raw, displayPath(options.root, e.importer), e.line),
    );
    let summary: BatchSummary | undefined;
    if (errors.length > 0) {
      // As in a build: nothing is paid until every directive of the project is valid.
      const bad = errors.map((e) => ({ ...e, file: e.importer }));
      io.stderr.write(`${formatError(badDirectivesError(bad, options.root), { code: true })}\n`);
    } else if (uses.length === 0) {
      if (!args.json) io.stdout.write(`No grok: directives to generate under ${options.root}\n`);
    } else {
      engine = createEngine(options, { onEvent: (event) => progress.onEvent(event), signal: io.signal });
      try {
        summary = await engine.prepare(uses);
      } catch (error) {
        progress.stop();
        if (args.json) writeJson(io, undefined, failures, error);
        return reportError(io, error);
      }
      progress.stop();
      failures.push(...directiveFailures(engine, uses, options.root));
      for (const f of failures.slice(errors.length)) io.stderr.write(`${f.message}\n`);
    }

    if (args.json) writeJson(io, summary, failures);
    else if (summary) io.stdout.write(`${formatSummary(summary)}\n`);
    if (failures.length > 0 && !args.json) {
      io.stderr.write(`${failures.length} directive${failures.length === 1 ? "" : "s"} failed.\n`);
    }
    return failures.length > 0 ? EXIT.failed : EXIT.ok;
  } catch (error) {
    progress.stop();
    return reportError(io, error);
  } finally {
    await engine?.close();
  }
}

/** Numeric flags arrive as numbers or strings; anything else goes on as given so validation names it. */
function toNumberOrRaw(value: number | string): number | string {
  if (typeof value === "number") return value;
  return /^\d+(?:\.\d+)?$/.test(value.trim()) ? Number(value) : value;
}

function failure(error: GrokImageError, raw: string, file: string, line: number): Failure {
  return {
    directive: raw,
    file,
    line,
    code: error.code,
    message: formatError(error, { code: true }),
    taskId: error.taskId ?? null,
  };
}

/** Per-directive failures the engine recorded, once per generation key, naming the first file that uses it. */
function directiveFailures(engine: Engine, uses: readonly FoundUse[], root: string): Failure[] {
  const seen = new Set<string>();
  const out: Failure[] = [];
  for (const use of uses) {
    const key = use.directive.generationKey;
    if (seen.has(key)) continue;
    seen.add(key);
    const error = engine.failure(key);
    if (!error) continue;
    error.importer ??= use.importer;
    out.push(failure(error, use.written ?? use.directive.raw, displayPath(root, use.importer), use.line));
  }
  return out;
}

function writeJson(
  io: CliIO,
  summary: BatchSummary | undefined,
  failures: Failure[],
  batchError?: unknown,
): void {
  const refused =
    batchError === undefined
      ? null
      : {
          code: (batchError as GrokImageError).code ?? "UNKNOWN",
          message: (batchError as Error).message,
          exitCode: exitCodeFor(batchError),
        };
  io.stdout.write(
    `${JSON.stringify({ version: 1, summary: summary ?? null, refused, failures }, null, 2)}\n`,
  );
}
