import type { Counters, GrokModel } from "./types.js";

/** USD per generated image (MAXAPI.md §10.1). */
export const PRICE_PER_IMAGE_USD: Readonly<Record<GrokModel, number>> = {
  "grok-imagine/text-to-image-lite": 0.001,
  "grok-imagine/text-to-image-standard": 0.0012,
  "grok-imagine/text-to-image-pro": 0.0015,
};

export function createCounters(): Counters {
  return {
    submits: 0,
    submitsByPrompt: {},
    tasksCreated: 0,
    moderated: 0,
    queries: 0,
    queriesByTask: {},
    cancels: 0,
    cancelled: 0,
    downloads: 0,
    cdnAuthorizationHeaders: 0,
    costUsd: 0,
    webhooksSent: 0,
    webhooksFailed: 0,
    webhooksSkipped: 0,
    throttled: 0,
    peakTasksInFlight: 0,
  };
}

/** Zeroes the counters in place, so references held by tests stay live. */
export function resetCounters(counters: Counters): void {
  Object.assign(counters, createCounters());
}

export function countKey(record: Record<string, number>, key: string): void {
  record[key] = (record[key] ?? 0) + 1;
}

/** Adds a charge; rounded to micro-dollars so sums of 0.0012 stay exact enough to compare. */
export function charge(counters: Counters, model: GrokModel, n: number): void {
  counters.costUsd = Math.round((counters.costUsd + PRICE_PER_IMAGE_USD[model] * n) * 1e6) / 1e6;
}
