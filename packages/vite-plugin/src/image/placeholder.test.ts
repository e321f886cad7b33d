import sharp from "sharp";
import { describe, expect, it } from "vitest";
import type { Transform } from "../types.js";
import { blurPlaceholder, renderPlaceholderImage } from "./placeholder.js";

function transform(partial: Partial<Transform>): Transform {
  return { w: null, h: null, fit: null, format: "webp", quality: 80, ...partial };
}

describe("blurPlaceholder", () => {
  it("is a tiny webp data URI that decodes with the image's aspect ratio", async () => {
    const input = await sharp({ create: { width: 300, height: 150, channels: 3, background: "#336699" } })
      .png()
      .toBuffer();
    const uri = await blurPlaceholder(input);
    expect(uri).toMatch(/^data:image\/webp;base64,[A-Za-z0-9+/=]+$/);
    expect(uri.length).toBeLessThan(1000);
    const meta = await sharp(Buffer.from(uri.split(",")[1] as string, "base64")).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["webp", 16, 8]);
  });
});

describe("renderPlaceholderImage", () => {
  it("is 1024 x 1024 by default", async () => {
    const meta = await sharp(await renderPlaceholderImage("a misty forest", transform({}))).metadata();
    expect([meta.width, meta.height]).toEqual([1024, 1024]);
  });

  it("takes the requested size, or a square of the one side given", async () => {
    const both = await sharp(await renderPlaceholderImage("p", transform({ w: 320, h: 200 }))).metadata();
    expect([both.width, both.height]).toEqual([320, 200]);
    const one = await sharp(await renderPlaceholderImage("p", transform({ h: 90 }))).metadata();
    expect([one.width, one.height]).toEqual([90, 90]);
  });

  it("is neutral gray (no saturated color) and differs per prompt", async () => {
    const a = await renderPlaceholderImage("a red <dragon> & a blue sky", transform({ w: 200, h: 200 }));
    const b = await renderPlaceholderImage("something else entirely", transform({ w: 200, h: 200 }));
    const stats = await sharp(a).stats();
    const [r, g, bl] = stats.channels;
    expect(Math.abs((r?.mean ?? 0) - (g?.mean ?? 0))).toBeLessThan(2);
    expect(Math.abs((g?.mean ?? 0) - (bl?.mean ?? 0))).toBeLessThan(2);
    expect(a.equals(b)).toBe(false);
  });
});
