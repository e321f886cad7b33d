import { describe, expect, it } from "vitest";
import {
  closest,
  editDistance,
  suggestBareValue,
  suggestNumber,
  suggestParam,
  suggestValue,
  suggestVariant,
} from "./did-you-mean.js";

const PARAMS = ["tier", "n", "ratio", "resolution", "v", "w", "h", "fit", "format", "quality"];

describe("editDistance", () => {
  it("counts insertions, deletions, substitutions and adjacent swaps as one edit each", () => {
    expect(editDistance("format", "format")).toBe(0);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("abc", "")).toBe(3);
    expect(editDistance("webpp", "webp")).toBe(1);
    expect(editDistance("wbp", "webp")).toBe(1);
    expect(editDistance("webq", "webp")).toBe(1);
    expect(editDistance("fromat", "format")).toBe(1);
    expect(editDistance("tire", "tier")).toBe(1);
    expect(editDistance("kitten", "sitting")).toBe(3);
  });
});

describe("closest", () => {
  it("ignores case and separators", () => {
    expect(closest("FORMAT", PARAMS)).toBe("format");
    expect(closest("Quality", PARAMS)).toBe("quality");
  });

  it("allows more edits for longer words and none for one- and two-letter ones", () => {
    expect(closest("resoltion", PARAMS)).toBe("resolution");
    expect(closest("resolutin", PARAMS)).toBe("resolution");
    expect(closest("x", PARAMS)).toBeUndefined();
    expect(closest("nn", PARAMS)).toBeUndefined();
    expect(closest("zzzz", PARAMS)).toBeUndefined();
  });

  it("prefers the nearest, then the earlier candidate", () => {
    expect(closest("fil", ["fill", "fit"])).toBe("fill");
    expect(closest("fitt", ["fill", "fit"])).toBe("fit");
  });
});

describe("suggestParam", () => {
  it("maps the words of other image tools to ours", () => {
    expect(suggestParam("width", "960", PARAMS)).toEqual({ names: ["w"], replacement: "w=960" });
    expect(suggestParam("aspectRatio", "16:9", PARAMS)).toEqual({
      names: ["ratio"],
      replacement: "ratio=16:9",
    });
    expect(suggestParam("hieght", "10", PARAMS)?.names).toEqual(["h"]);
  });

  it("only suggests a parameter that is accepted", () => {
    expect(suggestParam("width", "960", ["tier"])).toBeUndefined();
    expect(suggestParam("preset", "ink", PARAMS)).toBeUndefined();
    expect(suggestParam("preset", "ink", [...PARAMS, "style"])?.replacement).toBe("style=ink");
  });

  it("reads size and dimensions by their value", () => {
    expect(suggestParam("size", "640x480", PARAMS)?.replacement).toBe("w=640&h=480");
    expect(suggestParam("dimensions", "640 × 480", PARAMS)?.replacement).toBe("w=640&h=480");
    expect(suggestParam("size", "640", PARAMS)?.replacement).toBe("w=640");
    expect(suggestParam("size", "720P", PARAMS)?.replacement).toBe("resolution=720p");
    expect(suggestParam("size", "9/16", PARAMS)?.replacement).toBe("ratio=9:16");
  });
});

describe("value suggestions", () => {
  it("rewrites familiar notations and synonyms", () => {
    expect(suggestValue("ratio", "16 x 9", ["1:1", "16:9", "9:16"])).toBe("16:9");
    expect(suggestValue("ratio", "square", ["1:1", "16:9", "9:16"])).toBe("1:1");
    expect(suggestValue("ratio", "portrait", ["1:1"])).toBeUndefined();
    expect(suggestValue("resolution", "1920x1080", ["720p", "1080p"])).toBe("1080p");
    expect(suggestValue("resolution", "hd", ["720p", "1080p"])).toBe("720p");
    expect(suggestValue("format", "image/avif", ["webp", "avif"])).toBe("avif");
    expect(suggestValue("tier", "premium", ["lite", "standard", "pro"])).toBe("pro");
    expect(suggestValue("format", "gif", ["webp", "avif", "jpeg", "png"])).toBeUndefined();
  });

  it("repairs numbers with units and quality fractions", () => {
    expect(suggestNumber("w", "640px")).toBe("640");
    expect(suggestNumber("quality", "85%")).toBe("85");
    expect(suggestNumber("quality", "0.75")).toBe("75");
    expect(suggestNumber("quality", ".9")).toBe("90");
    expect(suggestNumber("w", "0.5")).toBeUndefined();
    expect(suggestNumber("w", "0px")).toBeUndefined();
    expect(suggestNumber("n", "two")).toBeUndefined();
  });

  it("turns a variant into a token", () => {
    expect(suggestVariant("hero shot")).toBe("hero-shot");
    expect(suggestVariant("a".repeat(40))).toBe("a".repeat(32));
    expect(suggestVariant("!!!")).toBeUndefined();
  });

  it("finds the parameter a bare value belongs to", () => {
    const values = { tier: ["lite", "standard", "pro"], format: ["webp", "jpg"] };
    expect(suggestBareValue("Pro", values)).toBe("tier=pro");
    expect(suggestBareValue("jpg", values)).toBe("format=jpg");
    expect(suggestBareValue("is this", values)).toBeUndefined();
  });
});
