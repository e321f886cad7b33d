import { describe, expect, it } from "vitest";
import { estimateCost, isTier, roundUsd, TIER_NAMES, TIERS, tierOfModel } from "./models.js";

describe("tier table", () => {
  it("maps each tier to its model id and round-trips", () => {
    for (const tier of TIER_NAMES) {
      expect(TIERS[tier].model).toBe(`grok-imagine/text-to-image-${tier}`);
      expect(tierOfModel(TIERS[tier].model)).toBe(tier);
    }
    expect(tierOfModel("grok-imagine/text-to-video")).toBeUndefined();
  });

  it("keeps ratio and resolution off lite only", () => {
    expect(TIERS.lite.ratios).toEqual([]);
    expect(TIERS.lite.resolutions).toEqual([]);
    expect(TIERS.pro.ratios).toEqual(["1:1", "16:9", "9:16"]);
    expect(TIERS.standard.resolutions).toEqual(["720p", "1080p"]);
  });

  it("recognises tier names only", () => {
    expect(isTier("pro")).toBe(true);
    expect(isTier("ultra")).toBe(false);
    expect(isTier("toString")).toBe(false);
    expect(isTier(undefined)).toBe(false);
  });
});

describe("estimateCost", () => {
  it("is n times the tier's price per image", () => {
    expect(estimateCost({ tier: "lite", n: 1 })).toBe(0.001);
    expect(estimateCost({ tier: "lite", n: 4 })).toBe(0.004);
    expect(estimateCost({ tier: "standard", n: 3 })).toBe(0.0036);
    expect(estimateCost({ tier: "pro", n: 10 })).toBe(0.015);
  });

  it("sums without float noise when rounded", () => {
    const costs = Array.from({ length: 7 }, () => estimateCost({ tier: "standard", n: 1 }));
    expect(roundUsd(costs.reduce((a, b) => a + b, 0))).toBe(0.0084);
  });
});
