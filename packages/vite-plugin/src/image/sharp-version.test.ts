import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { sharpVersion } from "./sharp-version.js";

describe("sharpVersion", () => {
  it("is the version of the sharp this package loads, read without loading it", () => {
    expect(sharpVersion()).toBe(sharp.versions.sharp);
  });
});
