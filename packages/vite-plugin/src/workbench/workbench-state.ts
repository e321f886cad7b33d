import path from "node:path";
import { estimateCost } from "../directive/models.js";
import type { DirectiveStatus, Engine, ReadyImage } from "../engine/engine-types.js";
import { formatError, GrokImageError } from "../errors.js";
import type { ProjectScan } from "../plan/scan-project.js";
import type { ResolvedOptions } from "../types.js";
import { type DevLoop, fsUrl } from "./dev-loop.js";
import type { WorkbenchDirective, WorkbenchState, WorkbenchStateName } from "./protocol.js";

/*
 * What the workbench shows (SPEC section 11): every directive of the project's files, where it is written, its
 * status, its cost, its takes, and the dev budget. The page and the Astro toolbar app render it; nothing in it is
 * secret (the token travels in the page's HTML only).
 */

export type { WorkbenchDirective, WorkbenchState, WorkbenchStateName } from "./protocol.js";

export interface StateSources {
  readonly options: ResolvedOptions;
  readonly engine: Engine | undefined;
  readonly loop: DevLoop | undefined;
  readonly scan: ProjectScan;
  /** The images each directive (as written) last loaded. */
  readonly loaded: ReadonlyMap<string, readonly ReadyImage[]>;
  readonly spentUsd: number;
}

function baseName(file: string): string {
  return path.basename(file).replace(/\.[^.]+$/, "");
}

function shownPath(file: string, root: string): string {
  const relative = path.relative(root, file);
  return (relative.startsWith("..") || path.isAbsolute(relative) ? file : relative).replaceAll("\\", "/");
}

export async function workbenchState(sources: StateSources): Promise<WorkbenchState> {
  const { options, engine, loop, scan, loaded } = sources;
  const statuses = new Map<string, DirectiveStatus>();
  for (const status of engine?.statuses() ?? []) {
    const known = statuses.get(status.generationKey);
    // Any directive of a key tells its state; a failure or a run is what matters most.
    if (!known || known.state === "missing" || status.state === "failed" || status.state === "generating") {
      statuses.set(status.generationKey, status);
    }
  }
  const takesOf = new Map<string, readonly string[]>();
  const takes = async (key: string) => {
    let found = takesOf.get(key);
    if (!found) {
      found = ((await engine?.originals(key)) ?? []).map(fsUrl);
      takesOf.set(key, found);
    }
    return found;
  };

  const rows: WorkbenchDirective[] = [];
  const listed = new Set<string>();
  for (const use of scan.uses) {
    const { directive } = use;
    const key = directive.generationKey;
    listed.add(directive.raw);
    const status = statuses.get(key);
    const activity = loop?.activity(key);
    const failure = engine?.failure(key);
    let state: WorkbenchStateName;
    switch (status?.state) {
      case "cached":
      case "generated":
        state = "cached";
        break;
      case "generating":
        state = activity?.startedAt === undefined ? "queued" : "generating";
        break;
      case "failed":
      case "refused":
      case "placeholder":
        state = status.state;
        break;
      default:
        state = "missing";
    }
    const files = [...(loaded.get(directive.raw) ?? []), ...(loop?.waitingFor(key) ?? [])].map((image) =>
      baseName(image.file),
    );
    const since =
      state === "generating" ? activity?.startedAt : state === "queued" ? activity?.queuedAt : undefined;
    rows.push({
      id: `${use.importer}:${use.line}:${use.column}:${directive.raw}`,
      file: use.importer,
      shownFile: shownPath(use.importer, options.root),
      line: use.line,
      column: use.column,
      // What the file holds, which an action edits (a Markdown directive with literal spaces, as written).
      raw: use.written ?? directive.raw,
      prompt: directive.generation.prompt,
      model: directive.generation.model,
      n: directive.generation.n,
      pick: directive.pick,
      v: directive.generation.v,
      key,
      state,
      ...(since === undefined ? {} : { elapsedMs: Date.now() - since }),
      ...(activity?.taskId || failure?.taskId
        ? { taskId: (failure?.taskId ?? activity?.taskId) as string }
        : {}),
      ...(failure ? { error: describe(failure) } : {}),
      costUsd: estimateCost(directive.generation),
      takes: await takes(key),
      shown: [...new Set(files)],
      editable: true,
    });
  }
  for (const bad of scan.errors) {
    rows.push({
      id: `${bad.importer}:${bad.line}:${bad.column}:${bad.raw}`,
      file: bad.importer,
      shownFile: shownPath(bad.importer, options.root),
      line: bad.line,
      column: bad.column,
      raw: bad.written ?? bad.raw,
      state: "invalid",
      error: describe(bad.error),
      takes: [],
      shown: [],
      editable: false,
    });
  }
  // Loaded from somewhere the scan does not look (a module outside the root): shown, never edited. A directive
  // gone from a scanned file (edited away) is not shown any more.
  const scannedFiles = new Set([...scan.uses.map((u) => u.importer), ...scan.errors.map((b) => b.importer)]);
  for (const status of engine?.statuses() ?? []) {
    if (listed.has(status.raw) || !loaded.has(status.raw)) continue;
    if (status.importer === undefined || scannedFiles.has(status.importer)) continue;
    listed.add(status.raw);
    rows.push({
      id: `loaded:${status.raw}`,
      ...(status.importer
        ? { file: status.importer, shownFile: shownPath(status.importer, options.root) }
        : {}),
      raw: status.raw,
      prompt: status.prompt,
      model: status.model,
      key: status.generationKey,
      state:
        status.state === "generated" ? "cached" : status.state === "generating" ? "generating" : status.state,
      costUsd: status.estimatedCostUsd,
      takes: await takes(status.generationKey),
      shown: (loaded.get(status.raw) ?? []).map((image) => baseName(image.file)),
      editable: false,
    });
  }
  rows.sort(
    (a, b) =>
      (a.shownFile ?? "").localeCompare(b.shownFile ?? "") ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.column ?? 0) - (b.column ?? 0),
  );
  return {
    root: options.root,
    mode: options.mode,
    budget: { spentUsd: sources.spentUsd, maxUsd: options.maxCost ?? null },
    directives: rows,
  };
}

/** The error as the workbench shows it: what happened, and what to do. */
function describe(error: unknown): { code: string; message: string; hint?: string } {
  if (!GrokImageError.isInstance(error)) return { code: "ERROR", message: String(error) };
  const message = formatError(error, { location: false }).replace(`\n  hint: ${error.hint}`, "");
  return { code: error.code, message, ...(error.hint ? { hint: error.hint } : {}) };
}
