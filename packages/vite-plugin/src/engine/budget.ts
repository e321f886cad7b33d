import { estimateCost } from "../directive/models.js";
import { GrokImageError } from "../errors.js";
import type { Generation } from "../types.js";
import { formatUsd } from "./format-event.js";

/**
 * What one build has committed to spend. Shared by every batch of the build (late-found directives, each build
 * environment, regenerations and re-submits), so `maxCost` bounds the build, not each batch.
 */
export interface BudgetLedger {
  committedUsd: number;
}

export function createLedger(): BudgetLedger {
  return { committedUsd: 0 };
}

/** The USD a batch may still spend, or undefined without a budget. */
export function remainingBudget(ledger: BudgetLedger, maxCost: number | undefined): number | undefined {
  return maxCost === undefined ? undefined : Math.max(0, maxCost - ledger.committedUsd);
}

/**
 * Commit one extra paid submit (a re-submit after an unexplained failure, an expired journal, a damaged original)
 * against the budget, or refuse it before anything is sent.
 */
export function reserveSubmit(
  ledger: BudgetLedger,
  maxCost: number | undefined,
  generation: Generation,
  why: string,
): void {
  const cost = estimateCost(generation);
  if (maxCost !== undefined && ledger.committedUsd + cost > maxCost + 1e-9) {
    throw new GrokImageError(
      "GROK_BUDGET_EXCEEDED",
      `Generating "${generation.prompt}" again (${why}) would cost ${formatUsd(cost)}, which this build's budget of ${formatUsd(maxCost)} (maxCost) no longer covers (${formatUsd(ledger.committedUsd)} already committed). Nothing was submitted.`,
      { hint: "Raise `maxCost` / GROK_IMAGE_MAX_COST, or run the build again later." },
    );
  }
  ledger.committedUsd += cost;
}
