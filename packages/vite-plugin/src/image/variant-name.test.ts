import { describe, expect, it } from "vitest";
import type { Transform } from "../types.js";
import { variantName } from "./variant-name.js";

const sha = "a".repeat(64);
const base: Transform = { w: 640, h: null, fit: null, format: "webp", quality: 80 };
const flags = { provenance: true, placeholder: false };

describe("variantName", () => {
  it("is a stable 32-hex name", () => {
    expect(variantName(sha, base, flags)).toMatch(/^[0-9a-f]{32}$/);
    expect(variantName(sha, { ...base }, { ...flags })).toBe(variantName(sha, base, flags));
  });

  it("changes with every input that changes the output", () => {
    const names = new Set([
      variantName(sha, base, flags),
      variantName("b".repeat(64), base, flags),
      variantName(sha, { ...base, w: 320 }, flags),
      variantName(sha, { ...base, h: 100 }, flags),
      variantName(sha, { ...base, fit: "contain" }, flags),
      variantName(sha, { ...base, format: "avif" }, flags),
      variantName(sha, { ...base, quality: 50 }, flags),
      variantName(sha, base, { provenance: false, placeholder: false }),
      variantName(sha, base, { provenance: true, placeholder: true }),
      variantName(sha, base, { provenance: { model: "m", prompt: "p" }, placeholder: false }),
      variantName(sha, base, { provenance: { model: "m2", prompt: "p" }, placeholder: false }),
    ]);
    expect(names.size).toBe(11);
  });

  it("treats equivalent transforms alike", () => {
    const both = { ...base, h: 480 };
    expect(variantName(sha, { ...both, fit: "cover" }, flags)).toBe(variantName(sha, both, flags));
    const none = { ...base, w: null };
    expect(variantName(sha, { ...none, fit: "contain" }, flags)).toBe(variantName(sha, none, flags));
    const png = { ...base, format: "png" as const };
    expect(variantName(sha, { ...png, quality: 10 }, flags)).toBe(variantName(sha, png, flags));
  });
});

describe("variantName of the newer inputs", () => {
  it("splits on position (cover only), the colour preview and the source handoff", () => {
    const cover = { ...base, h: 480 };
    const names = new Set([
      variantName(sha, cover, flags),
      variantName(sha, { ...cover, position: "attention" }, flags),
      variantName(sha, { ...cover, position: "entropy" }, flags),
      variantName(sha, base, { provenance: true, placeholder: "color" }),
      variantName(sha, base, { ...flags, source: true }),
    ]);
    expect(names.size).toBe(5);
    expect(variantName(sha, { ...cover, position: "center" }, flags)).toBe(variantName(sha, cover, flags));
    expect(variantName(sha, { ...base, position: "attention" }, flags)).toBe(variantName(sha, base, flags));
    expect(variantName(sha, base, { provenance: true, placeholder: "blur" })).toBe(
      variantName(sha, base, { provenance: true, placeholder: true }),
    );
  });
  it("ignores format and quality for the source handoff", () => {
    const source = { ...flags, source: true };
    expect(variantName(sha, { ...base, format: "avif", quality: 30 }, source)).toBe(
      variantName(sha, base, source),
    );
  });
});
