import sharp from "sharp";
import { wrapWords } from "../shared/wrap-words.js";
import type { Transform } from "../types.js";
import { escapeXml } from "./provenance-xmp.js";

/** Width of the inline preview: about 100 to 300 bytes of base64, enough for a blur-up. */
const PREVIEW_WIDTH = 16;
const DEFAULT_SIZE = 1024;

/** A tiny webp `data:` URI of the image, meant to be shown blurred while the real file loads. */
export async function blurPlaceholder(input: Buffer | string): Promise<string> {
  const data = await sharp(input)
    .autoOrient()
    .resize({ width: PREVIEW_WIDTH, height: PREVIEW_WIDTH, fit: "inside" })
    .webp({ quality: 50 })
    .toBuffer();
  return `data:image/webp;base64,${data.toString("base64")}`;
}

/**
 * A local stand-in for `mode: "placeholder"`: gray diagonal stripes, a dashed frame, "PLACEHOLDER" and the
 * prompt, so nobody mistakes it for a generation. Size: `w` x `h`, a square of the one given, else 1024 x 1024.
 * Returned as PNG (lossless); `deriveVariant` encodes it in the transform's format.
 */
export async function renderPlaceholderImage(prompt: string, transform: Transform): Promise<Buffer> {
  const width = transform.w ?? transform.h ?? DEFAULT_SIZE;
  const height = transform.h ?? transform.w ?? DEFAULT_SIZE;
  const unit = Math.max(8, Math.min(width, height) / 16);
  const titleSize = Math.round(Math.min(unit * 1.4, width / 8));
  const bodySize = Math.round(Math.min(unit * 0.7, width / 14));
  const lines = wrapWords(prompt, Math.max(8, Math.floor((width * 0.85) / (bodySize * 0.55))), 6);
  const stripe = Math.round(unit);
  const body = lines
    .map(
      (line, i) =>
        `<text x="50%" y="${Math.round(height / 2 + bodySize * 1.5 * (i + 1))}">${escapeXml(line)}</text>`,
    )
    .join("");
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
  <defs>
    <pattern id="s" width="${stripe * 2}" height="${stripe * 2}" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
      <rect width="${stripe}" height="${stripe * 2}" fill="#c8c8c8"/>
    </pattern>
  </defs>
  <rect width="100%" height="100%" fill="#b4b4b4"/>
  <rect width="100%" height="100%" fill="url(#s)"/>
  <rect x="${unit / 2}" y="${unit / 2}" width="${width - unit}" height="${height - unit}" fill="none"
    stroke="#505050" stroke-width="${Math.max(2, unit / 6)}" stroke-dasharray="${unit} ${unit / 2}"/>
  <g font-family="DejaVu Sans, Helvetica, Arial, sans-serif" text-anchor="middle" fill="#303030">
    <text x="50%" y="${Math.round(height / 2 - titleSize * 0.2)}" font-size="${titleSize}" font-weight="bold">PLACEHOLDER</text>
    <g font-size="${bodySize}">${body}</g>
  </g>
</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}
