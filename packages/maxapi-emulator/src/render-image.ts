import { createHash } from "node:crypto";
import sharp from "sharp";
import type { Size } from "./image-size.js";

export interface ImageRequest {
  prompt: string;
  /** Zero-based position in the task's result. */
  index: number;
  n: number;
  model: string;
  size: Size;
  seed: string;
}

/**
 * A real JPEG labelled with its prompt: a two-colour gradient picked from a hash of seed + prompt + index, so the
 * same inputs always give the same bytes and different prompts or indexes give visibly different images. The task
 * id is left out of the pixels on purpose: it is random, and the bytes must not depend on it.
 */
export async function renderImage(request: ImageRequest): Promise<Buffer> {
  return sharp(Buffer.from(imageSvg(request)))
    .jpeg({ quality: 80 })
    .toBuffer();
}

function imageSvg({ prompt, index, n, model, size, seed }: ImageRequest): string {
  const digest = createHash("sha256").update(`${seed}\u0000${prompt}\u0000${index}`).digest();
  const hueA = digest.readUInt16BE(0) % 360;
  const hueB = (hueA + 60 + (digest[2] ?? 0)) % 360;
  const angle = (digest[3] ?? 0) % 2 === 0 ? 'x2="1" y2="1"' : 'x2="1" y2="0"';
  const { width, height } = size;
  const fontSize = Math.max(8, Math.round(Math.min(width, height) / 18));
  const charsPerLine = Math.max(8, Math.floor((width * 0.86) / (fontSize * 0.6)));
  const maxLines = Math.max(1, Math.floor((height * 0.7) / (fontSize * 1.25)));
  const lines = wrap(prompt, charsPerLine, maxLines);
  const top = height / 2 - ((lines.length - 1) * fontSize * 1.25) / 2;
  const text = lines
    .map(
      (line, i) =>
        `<text x="50%" y="${(top + i * fontSize * 1.25).toFixed(1)}" text-anchor="middle">${escapeXml(line)}</text>`,
    )
    .join("");
  const footSize = Math.max(6, Math.round(fontSize * 0.55));
  const footer = `${model} · image ${index + 1} of ${n} · ${width}x${height}`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
<defs><linearGradient id="g" x1="0" y1="0" ${angle}>
<stop offset="0" stop-color="hsl(${hueA},70%,45%)"/><stop offset="1" stop-color="hsl(${hueB},70%,30%)"/>
</linearGradient></defs>
<rect width="100%" height="100%" fill="url(#g)"/>
<g font-family="DejaVu Sans, sans-serif" font-size="${fontSize}" fill="#fff" stroke="#000" stroke-width="${Math.max(1, fontSize / 16).toFixed(1)}" paint-order="stroke">${text}</g>
<text x="50%" y="${height - footSize}" text-anchor="middle" font-family="DejaVu Sans, sans-serif" font-size="${footSize}" fill="#fff" fill-opacity="0.85">${escapeXml(footer)}</text>
</svg>`;
}

/** Greedy word wrap; words longer than a line are cut, and overflow ends in an ellipsis. */
export function wrap(text: string, width: number, maxLines: number): string[] {
  const words = text.trim().split(/\s+/);
  const lines: string[] = [];
  let line = "";
  for (let word of words) {
    while (word.length > width) {
      if (line) lines.push(line);
      lines.push(word.slice(0, width));
      word = word.slice(width);
      line = "";
    }
    if (!line) line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line) lines.push(line);
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, maxLines);
  kept[maxLines - 1] = `${(kept[maxLines - 1] ?? "").slice(0, Math.max(0, width - 1))}…`;
  return kept;
}

/** Escapes markup and drops control characters, which XML 1.0 forbids even as references. */
export function escapeXml(text: string): string {
  const allowed = [...text].filter((ch) => {
    const code = ch.charCodeAt(0);
    return code >= 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
  });
  return allowed.join("").replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
