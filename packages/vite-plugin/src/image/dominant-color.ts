import sharp from "sharp";

/**
 * The image's dominant colour as `#rrggbb` (sharp's 4096-bin histogram peak), for a `placeholder=color` preview: a
 * background colour the page shows while the file loads, at no cost in bytes.
 */
export async function dominantColor(input: Buffer | string): Promise<string> {
  const { dominant } = await sharp(input).stats();
  return `#${[dominant.r, dominant.g, dominant.b].map((c) => c.toString(16).padStart(2, "0")).join("")}`;
}
