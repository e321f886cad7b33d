import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { readImageInfo } from "./read-image-info.js";

const pixels = { create: { width: 24, height: 12, channels: 3 as const, background: "#808080" } };

describe("readImageInfo", () => {
  for (const format of ["jpeg", "png", "webp", "avif", "gif"] as const) {
    it(`reads ${format}`, async () => {
      const bytes = await sharp(pixels).toFormat(format).toBuffer();
      expect(await readImageInfo(bytes)).toEqual({ format, width: 24, height: 12 });
    });
  }

  it("reports the displayed size of an EXIF-rotated image", async () => {
    const bytes = await sharp(pixels).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    expect(await readImageInfo(bytes)).toEqual({ format: "jpeg", width: 12, height: 24 });
  });

  it("rejects what is not an accepted raster image", async () => {
    await expect(readImageInfo(Buffer.from("not an image"))).rejects.toMatchObject({
      code: "GROK_DOWNLOAD_REJECTED",
    });
    const tiff = await sharp(pixels).tiff().toBuffer();
    await expect(readImageInfo(tiff)).rejects.toMatchObject({ code: "GROK_DOWNLOAD_REJECTED" });
  });
});
