import { relative } from "node:path";
import { estimateCost } from "../directive/models.js";
import { GrokImageError } from "../errors.js";
import type { Generation, ResolvedOptions } from "../types.js";
import type { DirectiveUse } from "./engine-types.js";
import { formatUsd } from "./format-event.js";

/** One generation of a batch and every directive use that shares it. */
export interface PlannedGeneration {
  readonly key: string;
  readonly generation: Generation;
  readonly uses: DirectiveUse[];
}

export interface BatchPlan {
  readonly generations: Map<string, PlannedGeneration>;
  readonly hits: string[];
  /** Keys not in the cache, in first-seen order. */
  readonly misses: string[];
  /** Misses whose task was already submitted (and paid) by an earlier run: resuming costs nothing. */
  readonly resumable: Set<string>;
  /** Estimated USD of the misses that need a new paid submit. */
  readonly estimatedCostUsd: number;
}

/** Dedupe by generation key and split hits from misses. Pure: no network, no image decoding. */
export function planBatch(
  uses: readonly DirectiveUse[],
  isCached: (key: string) => boolean,
  pendingKeys: ReadonlySet<string>,
): BatchPlan {
  const generations = new Map<string, PlannedGeneration>();
  for (const use of uses) {
    const key = use.directive.generationKey;
    const planned = generations.get(key);
    if (planned) planned.uses.push(use);
    else generations.set(key, { key, generation: use.directive.generation, uses: [use] });
  }
  const hits: string[] = [];
  const misses: string[] = [];
  const resumable = new Set<string>();
  let estimatedCostUsd = 0;
  for (const key of generations.keys()) {
    if (isCached(key)) {
      hits.push(key);
      continue;
    }
    misses.push(key);
    if (pendingKeys.has(key)) resumable.add(key);
    else estimatedCostUsd += estimateCost((generations.get(key) as PlannedGeneration).generation);
  }
  return { generations, hits, misses, resumable, estimatedCostUsd };
}

/** `src/pages/index.astro:12:24`, or the file alone when the position is unknown. */
function whereIs(use: DirectiveUse, root: string): string | undefined {
  if (!use.importer) return undefined;
  const file = relative(root, use.importer).split("\\").join("/");
  return use.line === undefined ? file : `${file}:${use.line}:${use.column ?? 1}`;
}

function describeMisses(plan: BatchPlan, root: string): string {
  return plan.misses
    .map((key) => {
      const { generation, uses } = plan.generations.get(key) as PlannedGeneration;
      const where = [...new Set(uses.map((use) => whereIs(use, root)))].filter(Boolean).join(", ");
      const cost = plan.resumable.has(key) ? "already paid, resumable" : formatUsd(estimateCost(generation));
      return `  - ${uses[0]?.directive.raw}${where ? `  (in ${where})` : ""}  ${cost}`;
    })
    .join("\n");
}

/**
 * The checks that run over ALL misses before anything is submitted: a build either pays for what it needs within
 * its budget, or pays nothing at all. Throws one error that lists every directive concerned.
 */
export function checkBatch(
  plan: BatchPlan,
  options: ResolvedOptions,
  /** What is left of the budget; `null` checks the mode only (the budget is checked later, load by load). */
  remainingUsd: number | null | undefined = options.maxCost,
): void {
  if (plan.misses.length === 0 || options.mode === "placeholder") return;
  const count = `${plan.misses.length} image generation${plan.misses.length === 1 ? "" : "s"}`;
  const list = describeMisses(plan, options.root);
  const total = formatUsd(plan.estimatedCostUsd);
  if (options.mode === "frozen") {
    throw new GrokImageError(
      "GROK_FROZEN_MISS",
      `${count} missing from the cache in frozen mode (generating ${plan.misses.length === 1 ? "it" : "them"} would cost about ${total}):\n${list}`,
      {
        hint: `Run \`grok-image generate\` (or a build with GROK_IMAGE_MODE=generate and MAXAPI_KEY set) locally and commit ${relative(options.root, options.cacheDir) || options.cacheDir}, or restore the cache in CI. Frozen mode is the default when CI is set.`,
      },
    );
  }
  if (!options.apiKey) {
    const them = plan.misses.length === 1 ? "it" : "them";
    throw new GrokImageError(
      "GROK_NO_API_KEY",
      `${count} missing from the cache, and no MaxAPI key is set to generate ${them}:\n${list}`,
      {
        hint: `Set MAXAPI_KEY (or the \`apiKey\` option) to generate ${them} for about ${total}; or set GROK_IMAGE_MODE=placeholder to build with local placeholders, or GROK_IMAGE_MODE=frozen to fail without generating.`,
      },
    );
  }
  if (
    options.maxCost !== undefined &&
    remainingUsd !== undefined &&
    remainingUsd !== null &&
    plan.estimatedCostUsd > remainingUsd + 1e-9
  ) {
    const spent = options.maxCost - remainingUsd;
    throw new GrokImageError(
      "GROK_BUDGET_EXCEEDED",
      `Generating ${count} would cost about ${total}, over the budget of ${formatUsd(options.maxCost)} (maxCost)${spent > 0 ? `, of which ${formatUsd(spent)} is already committed by this build` : ""}. Nothing was submitted:\n${list}`,
      {
        hint: "Raise `maxCost` / GROK_IMAGE_MAX_COST, or lower `n` or use a cheaper tier on some directives.",
      },
    );
  }
}
