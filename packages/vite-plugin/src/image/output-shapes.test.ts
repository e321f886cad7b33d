import { describe, expect, it } from "vitest";
import { parseDirective } from "../directive/parse-directive.js";
import type { Transform } from "../types.js";
import { clampTransform, outputTransforms } from "./output-shapes.js";

const defaults = { tier: "lite" as const, format: "webp" as const, quality: 80 };
const base: Transform = { w: null, h: null, fit: null, format: "webp", quality: 80 };
const original = { width: 1024, height: 768 };

describe("clampTransform", () => {
  it("clamps a width or height above the original's", () => {
    expect(clampTransform({ ...base, w: 2000 }, original).w).toBe(1024);
    expect(clampTransform({ ...base, w: 640 }, original).w).toBe(640);
    expect(clampTransform({ ...base, h: 900 }, original).h).toBe(768);
  });
  it("shrinks a cover box to fit, keeping its aspect ratio", () => {
    const out = clampTransform({ ...base, w: 2048, h: 1024, fit: "cover" }, original);
    expect([out.w, out.h]).toEqual([1024, 512]);
  });
  it("leaves a contain box alone", () => {
    const box = { ...base, w: 2048, h: 1024, fit: "contain" as const };
    expect(clampTransform(box, original)).toBe(box);
  });
});

describe("outputTransforms", () => {
  it("is every format at every width, the last format last", () => {
    const d = parseDirective("grok:a forest?w=320;1280;640&format=avif;webp&as=picture", defaults);
    const out = outputTransforms(d).map((t) => `${t.format}@${t.w}`);
    expect(out).toEqual(["avif@320", "avif@640", "avif@1280", "webp@320", "webp@640", "webp@1280"]);
    expect(d.transform).toMatchObject({ w: 1280, format: "webp" });
  });
  it("keeps the aspect ratio of w and h at every width", () => {
    const d = parseDirective("grok:a forest?w=400;800&h=400&as=srcset", defaults);
    expect(outputTransforms(d).map((t) => [t.w, t.h])).toEqual([
      [400, 200],
      [800, 400],
    ]);
  });
  it("is the original's size when no width is given", () => {
    const d = parseDirective("grok:a forest?format=avif;jpeg&as=picture", defaults);
    expect(outputTransforms(d).map((t) => [t.format, t.w])).toEqual([
      ["avif", null],
      ["jpeg", null],
    ]);
  });
});
