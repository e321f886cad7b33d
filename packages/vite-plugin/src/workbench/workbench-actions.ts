import { estimateCost } from "../directive/models.js";
import { parseDirective } from "../directive/parse-directive.js";
import type { Engine } from "../engine/engine-types.js";
import { formatUsd } from "../engine/format-event.js";
import type { FoundUse, ProjectScan } from "../plan/scan-project.js";
import type { ResolvedOptions } from "../types.js";
import type { DevLoop } from "./dev-loop.js";
import { type DirectiveAt, EditRefused, editDirective, withParam } from "./edit-directive.js";

/*
 * The workbench's actions. "Use this take" and "reroll" only ever edit the directive's own text in its source
 * file; the dev server then sees the edit as any other one (the page reloads, the module loads again) and pays, if
 * at all, through the usual path: only for a directive written in a project file, within the dev budget. "Retry"
 * generates a failed directive again, on the same terms.
 */

/** A refused action: the HTTP status and what the workbench shows. */
export class ActionError extends Error {
  override name = "ActionError";
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export interface ActionDeps {
  readonly options: ResolvedOptions;
  /** The project's directives as the files hold them now. */
  readonly scan: () => Promise<ProjectScan>;
  readonly engine: () => Engine | undefined;
  readonly loop: () => DevLoop | undefined;
  /** Says what an action did, in the dev server's log. */
  readonly log: (line: string) => void;
}

export interface ActionResult {
  /** The directive as now written. */
  readonly raw?: string;
  readonly message: string;
}

/** The directive the request names, as the workbench showed it. */
function directiveAt(body: Record<string, unknown>): DirectiveAt {
  const { file, line, column, raw } = body;
  if (
    typeof file !== "string" ||
    typeof raw !== "string" ||
    !Number.isInteger(line) ||
    !Number.isInteger(column) ||
    !raw.startsWith("grok:")
  ) {
    throw new ActionError(
      400,
      "The request does not name a directive (file, line, column and raw are required).",
    );
  }
  return { file, line: line as number, column: column as number, raw };
}

/**
 * The project's directive at that place, found by a fresh scan: only a file the project scan knows can be edited,
 * and only while it holds that directive there.
 */
async function findUse(deps: ActionDeps, at: DirectiveAt): Promise<FoundUse> {
  const scan = await deps.scan();
  const inFile = scan.uses.filter((use) => use.importer === at.file);
  if (inFile.length === 0 && !scan.errors.some((bad) => bad.importer === at.file)) {
    throw new ActionError(403, `${at.file} is not a source file of this project with a grok: directive.`);
  }
  const use = inFile.find(
    (u) => u.line === at.line && u.column === at.column && (u.written ?? u.directive.raw) === at.raw,
  );
  if (!use) {
    throw new ActionError(
      409,
      `${at.file}:${at.line}:${at.column} no longer holds ${at.raw}: the file changed since the workbench read it. Nothing was written; look at the directive again.`,
    );
  }
  return use;
}

async function write(at: DirectiveAt, next: string): Promise<void> {
  try {
    await editDirective(at, next);
  } catch (error) {
    if (error instanceof EditRefused) throw new ActionError(error.stale ? 409 : 400, error.message);
    throw error;
  }
}

/** The next `v` after `current` whose generation is not cached yet: a reroll is always a new task. */
async function nextVariant(
  deps: ActionDeps,
  at: DirectiveAt,
  current: string | null,
): Promise<{ raw: string; v: string }> {
  const numeric = current !== null && /^[0-9]+$/.test(current);
  const start = numeric ? Number(current) + 1 : 2;
  for (let i = start; i < start + 1000; i++) {
    const v = current === null || numeric ? String(i) : `${current.slice(0, 28)}-${i}`;
    // A new set of takes: the old pick says nothing about them.
    const raw = withParam(withParam(at.raw, "v", v), "pick", undefined);
    const key = parseDirective(raw, deps.options).generationKey;
    if ((await deps.engine()?.originals(key)) === undefined) return { raw, v };
  }
  throw new ActionError(409, `Every variant of ${at.raw} near v=${start} is already generated.`);
}

export function workbenchActions(deps: ActionDeps) {
  return {
    /** Writes `pick=k` into the directive (pick=1, the default, is written by removing `pick`). */
    async pick(body: Record<string, unknown>): Promise<ActionResult> {
      const at = directiveAt(body);
      const use = await findUse(deps, at);
      const { n } = use.directive.generation;
      const k = body.pick;
      if (typeof k !== "number" || !Number.isInteger(k) || k < 1 || k > n) {
        throw new ActionError(400, `pick must be a take of ${at.raw}: 1 to ${n}.`);
      }
      const raw = withParam(at.raw, "pick", k === 1 ? undefined : String(k));
      // Choosing a take never pays: the generation must stay the same one.
      if (parseDirective(raw, deps.options).generationKey !== use.directive.generationKey) {
        throw new ActionError(
          400,
          `Writing pick=${k} would change the generation of ${at.raw}; nothing was written.`,
        );
      }
      await write(at, raw);
      deps.log(`workbench: ${at.raw} now uses take ${k} (${raw}).`);
      return { raw, message: `Take ${k} is used: ${raw}` };
    },

    /** Writes a new `v` (a new generation of the same prompt), once the cost the page showed is confirmed. */
    async reroll(body: Record<string, unknown>): Promise<ActionResult> {
      const at = directiveAt(body);
      const use = await findUse(deps, at);
      const cost = estimateCost(use.directive.generation);
      if (typeof body.costUsd !== "number" || Math.abs(body.costUsd - cost) > 1e-9) {
        throw new ActionError(
          409,
          `A reroll of ${at.raw} costs ${formatUsd(cost)}; confirm that cost to reroll it. Nothing was written.`,
        );
      }
      const { raw, v } = await nextVariant(deps, at, use.directive.generation.v);
      await write(at, raw);
      deps.log(
        `workbench: rerolled ${at.raw} as v=${v} (${raw}); it generates when the page loads it, about ${formatUsd(cost)}.`,
      );
      return { raw, message: `Rerolled as ${raw}: about ${formatUsd(cost)} when the page loads it.` };
    },

    /** Generates a failed directive again. */
    async retry(body: Record<string, unknown>): Promise<ActionResult> {
      const key = body.key;
      const loop = deps.loop();
      if (typeof key !== "string" || !loop)
        throw new ActionError(400, "The request does not name a failed directive.");
      // Only what a project file holds is ever paid for, and a retry is no exception.
      const scan = await deps.scan();
      const use = scan.uses.find((u) => u.directive.generationKey === key);
      if (!use) throw new ActionError(403, "No source file of this project holds that directive.");
      if (!(await loop.retry(key))) {
        throw new ActionError(409, `${use.directive.raw} has not failed (or has been retried already).`);
      }
      deps.log(`workbench: retrying ${use.directive.raw}.`);
      return { message: `Retrying ${use.directive.raw}.` };
    },
  };
}

export type WorkbenchActions = ReturnType<typeof workbenchActions>;
