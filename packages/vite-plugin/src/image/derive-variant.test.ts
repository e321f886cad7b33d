import { randomBytes } from "node:crypto";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import type { OutputFormat, Transform } from "../types.js";
import { deriveVariant } from "./derive-variant.js";
import { TRAINED_ALGORITHMIC_MEDIA } from "./provenance-xmp.js";

/** Random pixels: an image whose encoded size reacts to quality, unlike a flat color. */
async function noise(width: number, height: number, format: "png" | "jpeg" = "png"): Promise<Buffer> {
  return sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } })
    .toFormat(format)
    .toBuffer();
}

function transform(partial: Partial<Transform>): Transform {
  return { w: null, h: null, fit: null, format: "webp", quality: 80, ...partial };
}

const provenance = { model: "grok-imagine/text-to-image-pro", prompt: 'a "misty" forest <at> dawn & café' };

describe("deriveVariant sizes", () => {
  it("keeps the aspect ratio when only the width is given", async () => {
    const out = await deriveVariant(await noise(400, 200), transform({ w: 100 }));
    expect([out.width, out.height]).toEqual([100, 50]);
    const meta = await sharp(out.data).metadata();
    expect([meta.width, meta.height, meta.format]).toEqual([100, 50, "webp"]);
  });

  it("keeps the aspect ratio when only the height is given", async () => {
    const out = await deriveVariant(await noise(400, 200), transform({ h: 20 }));
    expect([out.width, out.height]).toEqual([40, 20]);
  });

  it("never upscales", async () => {
    const out = await deriveVariant(await noise(120, 80), transform({ w: 1000 }));
    expect([out.width, out.height]).toEqual([120, 80]);
    const both = await deriveVariant(await noise(120, 80), transform({ w: 1000, h: 900 }));
    expect(both.width).toBeLessThanOrEqual(120);
    expect(both.height).toBeLessThanOrEqual(80);
  });

  it("crops to the exact size with cover (the default when both sides are given)", async () => {
    const out = await deriveVariant(await noise(400, 200), transform({ w: 100, h: 100 }));
    expect([out.width, out.height]).toEqual([100, 100]);
  });

  it("fits inside with contain/inside", async () => {
    const out = await deriveVariant(await noise(400, 200), transform({ w: 100, h: 100, fit: "inside" }));
    expect([out.width, out.height]).toEqual([100, 50]);
  });

  it("applies the EXIF orientation", async () => {
    const rotated = await sharp(await noise(60, 30))
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const out = await deriveVariant(rotated, transform({}));
    expect([out.width, out.height]).toEqual([30, 60]);
  });
});

describe("deriveVariant formats", () => {
  const formats: OutputFormat[] = ["webp", "avif", "jpeg", "png"];
  for (const format of formats) {
    it(`encodes ${format} that decodes, with the provenance XMP`, async () => {
      const out = await deriveVariant(await noise(64, 48), transform({ format, w: 32 }), { provenance });
      const meta = await sharp(out.data).metadata();
      expect(meta.format === "heif" ? "avif" : meta.format).toBe(format);
      expect([meta.width, meta.height]).toEqual([32, 24]);
      const xmp = meta.xmp?.toString("utf8") ?? "";
      expect(xmp).toContain(TRAINED_ALGORITHMIC_MEDIA);
      expect(xmp).toContain("Iptc4xmpExt:DigitalSourceType");
      expect(xmp).toContain("grok-imagine/text-to-image-pro");
      expect(xmp).toContain("a &quot;misty&quot; forest &lt;at&gt; dawn &amp; café");
      expect(xmp).toContain("<dc:description>");
    });
  }

  it("writes no metadata without provenance, and strips the input's", async () => {
    const tagged = await sharp(await noise(40, 40, "jpeg"))
      .withXmp('<x:xmpmeta xmlns:x="adobe:ns:meta/"></x:xmpmeta>')
      .withExif({ IFD0: { Copyright: "someone" } })
      .jpeg()
      .toBuffer();
    expect((await sharp(tagged).metadata()).xmp).toBeDefined();
    for (const format of ["webp", "jpeg", "png", "avif"] as const) {
      const out = await deriveVariant(tagged, transform({ format }), { provenance: null });
      const meta = await sharp(out.data).metadata();
      expect(meta.xmp).toBeUndefined();
      expect(meta.exif).toBeUndefined();
    }
  });

  it("gets smaller with lower quality for lossy formats", async () => {
    const input = await noise(128, 128);
    for (const format of ["webp", "avif", "jpeg"] as const) {
      const low = await deriveVariant(input, transform({ format, quality: 20 }));
      const high = await deriveVariant(input, transform({ format, quality: 95 }));
      expect(low.data.length).toBeLessThan(high.data.length);
    }
  });

  it("adds a decodable preview when asked", async () => {
    const out = await deriveVariant(await noise(200, 100), transform({}), { placeholder: true });
    expect(out.placeholder).toMatch(/^data:image\/webp;base64,/);
    const preview = Buffer.from((out.placeholder as string).split(",")[1] as string, "base64");
    const meta = await sharp(preview).metadata();
    expect([meta.width, meta.height]).toEqual([16, 8]);
    const without = await deriveVariant(await noise(20, 10), transform({}));
    expect(without.placeholder).toBeUndefined();
  });
});
