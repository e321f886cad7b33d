import type { Generation, Tier } from "../types.js";

/** What one Grok Imagine text-to-image tier accepts and costs. */
export interface TierSpec {
  /** The `model` string sent to submit. */
  readonly model: string;
  /** USD per generated image; a task costs `n` times this. */
  readonly pricePerImage: number;
  readonly minN: number;
  readonly maxN: number;
  /** Accepted `ratio` values; empty when the tier rejects the parameter. */
  readonly ratios: readonly string[];
  /** Accepted `resolution` values; empty when the tier rejects the parameter. */
  readonly resolutions: readonly string[];
}

/*
 * The one table of tiers. Prices and `n` ranges are from the MaxAPI docs (MAXAPI.md 10.1). The docs do not list
 * the `ratio`/`resolution` values of standard and pro: these come from a third-party MaxAPI client (MAXAPI.md
 * 10.1, unverified), so they live here only, and growing the list is a one-line change. Lite rejects both
 * parameters upstream: its orientation follows the prompt.
 */
const LISTED_SIZES = { ratios: ["1:1", "16:9", "9:16"], resolutions: ["720p", "1080p"] } as const;

export const TIERS = {
  lite: {
    model: "grok-imagine/text-to-image-lite",
    pricePerImage: 0.001,
    minN: 1,
    maxN: 4,
    ratios: [],
    resolutions: [],
  },
  standard: {
    model: "grok-imagine/text-to-image-standard",
    pricePerImage: 0.0012,
    minN: 1,
    maxN: 10,
    ...LISTED_SIZES,
  },
  pro: {
    model: "grok-imagine/text-to-image-pro",
    pricePerImage: 0.0015,
    minN: 1,
    maxN: 10,
    ...LISTED_SIZES,
  },
} as const satisfies Record<Tier, TierSpec>;

export const TIER_NAMES = Object.keys(TIERS) as readonly Tier[];

export function isTier(value: unknown): value is Tier {
  return typeof value === "string" && Object.hasOwn(TIERS, value);
}

/** The tier of a model id, or `undefined` for a model this package does not know (e.g. an old manifest entry). */
export function tierOfModel(model: string): Tier | undefined {
  return TIER_NAMES.find((tier) => TIERS[tier].model === model);
}

/**
 * USD cost of one generation: `n × price per image` (MAXAPI.md 10.1, inferred). Rounded to a millionth of a
 * dollar so sums of many directives do not print float noise like 0.0036000000000000003.
 */
export function estimateCost(generation: Pick<Generation, "tier" | "n">): number {
  return roundUsd(generation.n * TIERS[generation.tier].pricePerImage);
}

/** Rounds a USD amount to a millionth of a dollar; use it when summing costs. */
export function roundUsd(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}
