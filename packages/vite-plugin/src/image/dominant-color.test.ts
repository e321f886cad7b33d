import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { dominantColor } from "./dominant-color.js";

describe("dominantColor", () => {
  it("is the colour most of the image has, as #rrggbb", async () => {
    const image = await sharp({ create: { width: 64, height: 64, channels: 3, background: "#2060c0" } })
      .composite([
        {
          input: await sharp({ create: { width: 16, height: 16, channels: 3, background: "#ff0000" } })
            .png()
            .toBuffer(),
        },
      ])
      .png()
      .toBuffer();
    const color = await dominantColor(image);
    expect(color).toMatch(/^#[0-9a-f]{6}$/);
    const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(color.slice(i, i + 2), 16));
    expect(b).toBeGreaterThan(150);
    expect(r).toBeLessThan(60);
    expect(g).toBeGreaterThan(60);
  });
});
