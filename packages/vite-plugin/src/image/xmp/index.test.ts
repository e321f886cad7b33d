import sharp, { type Sharp } from "sharp";
import { describe, expect, it } from "vitest";
import { provenanceXmp, TRAINED_ALGORITHMIC_MEDIA } from "../provenance-xmp.js";
import { findGrokXmp, insertXmp } from "./index.js";

const xmp = provenanceXmp({
  model: "grok-imagine/text-to-image-lite",
  prompt: "a misty forest, café <at> dawn",
});

async function noise(channels: 3 | 4 = 3): Promise<Sharp> {
  const width = 48;
  const height = 32;
  const data = Buffer.alloc(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + (i >> 5) * 11) % 256;
  return sharp(data, { raw: { width, height, channels } });
}

async function pixels(bytes: Uint8Array): Promise<Buffer> {
  return sharp(bytes).raw().toBuffer();
}

const encodings: Record<string, (s: Sharp) => Sharp> = {
  jpeg: (s) => s.jpeg({ quality: 70 }),
  "jpeg with exif and old xmp": (s) =>
    s
      .jpeg()
      .withExif({ IFD0: { Copyright: "x" } })
      .withXmp('<x:xmpmeta xmlns:x="adobe:ns:meta/"></x:xmpmeta>'),
  png: (s) => s.png(),
  "png with alpha": (s) => s.ensureAlpha(0.5).png(),
  "webp lossy": (s) => s.webp({ quality: 60 }),
  "webp lossless": (s) => s.webp({ lossless: true }),
  "webp lossy with alpha": (s) => s.ensureAlpha(0.5).webp({ quality: 60 }),
  "webp extended (icc)": (s) => s.webp().withIccProfile("srgb"),
  avif: (s) => s.avif({ quality: 50 }),
  "avif with alpha": (s) => s.ensureAlpha(0.5).avif({ quality: 50 }),
};

describe("insertXmp", () => {
  for (const [name, encode] of Object.entries(encodings)) {
    it(`${name}: sharp reads the packet back, and the pixels are the input's`, async () => {
      const input = await encode(await noise()).toBuffer();
      const meta = await sharp(input).metadata();
      const format = meta.format === "heif" ? "avif" : (meta.format as string);
      const out = insertXmp(input, format, xmp);
      const after = await sharp(out).metadata();
      expect(after.xmp?.toString("utf8")).toContain(TRAINED_ALGORITHMIC_MEDIA);
      expect(after.xmp?.toString("utf8")).toContain("café &lt;at&gt; dawn");
      expect([after.width, after.height, after.hasAlpha]).toEqual([meta.width, meta.height, meta.hasAlpha]);
      expect((await pixels(out)).equals(await pixels(input))).toBe(true);
      expect(findGrokXmp(out)).toBe(xmp);
      // Marking twice keeps one packet (AVIF refuses, as it must never hold two).
      if (format !== "avif") {
        const twice = insertXmp(out, format, xmp);
        expect(twice.length).toBe(out.length);
      }
    });
  }

  it("finds no packet in an unmarked image, nor a foreign one", async () => {
    const foreign = await (await noise())
      .jpeg()
      .withXmp(
        '<?xpacket begin="" id="x"?><x:xmpmeta xmlns:x="adobe:ns:meta/"></x:xmpmeta><?xpacket end="w"?>',
      )
      .toBuffer();
    expect(findGrokXmp(foreign)).toBeUndefined();
    expect(findGrokXmp(await (await noise()).png().toBuffer())).toBeUndefined();
  });

  it("refuses a format it cannot write", async () => {
    const gif = await (await noise()).gif().toBuffer();
    expect(() => insertXmp(gif, "gif", xmp)).toThrow(/no XMP writer/);
  });
});
