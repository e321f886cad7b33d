import { createHash } from "node:crypto";
import { mkdir, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { writeFileAtomic } from "../cache/write-file-atomic.js";
import type { ReadyImage, ReadyOutput } from "../engine/engine-types.js";
import { outputTransforms } from "../image/output-shapes.js";
import { escapeXml } from "../image/provenance-xmp.js";
import { wrapWords } from "../shared/wrap-words.js";
import type { Directive, ResolvedOptions, Transform } from "../types.js";

/*
 * What a dev page shows while a directive has no image yet: a stand-in of the size the image will most likely have,
 * saying so in its pixels ("generating…", "generation failed", "not generated"), so it reads right even where the dev
 * client never runs. Its file name is how the dev client finds it again in any URL the page uses (a plain `src`, a
 * `srcset`, Astro's `/_image?href=...`): `grok-<kind>-*`, never percent-encoded.
 */

/** Why a directive has no image yet: it is being generated, it may not be (budget, no key), or it failed. */
export type WaitingKind = "generating" | "waiting" | "failed";

/**
 * Every waiting image's name matches this (kind, a 20-digit hash, the take's index); the dev client uses the same
 * pattern. Precise enough that no folder of a path ever looks like one.
 */
export const WAITING_NAME = /grok-(?:generating|waiting|failed)-[0-9a-f]{20}-[0-9]+/;

/** The long side of a generation whose size nothing says (lite images are 1024 x 1024). */
const BASE_SIZE = 1024;

/** Width over height that the directive asks for: its `ratio`, else square (what lite returns). */
function aspectOf(directive: Directive): number {
  const [w, h] = (directive.generation.ratio ?? "1:1").split(":").map(Number);
  return w && h ? w / h : 1;
}

/**
 * The size the image will most likely have once generated: the original's (from `ratio`, else square) through the
 * directive's transform (or one of its `as=srcset|picture` outputs), never larger than the original, as the derived
 * image never is.
 */
export function expectedSize(
  directive: Directive,
  transform: Transform = directive.transform,
): { width: number; height: number } {
  const aspect = aspectOf(directive);
  const original =
    aspect >= 1
      ? { width: BASE_SIZE, height: Math.round(BASE_SIZE / aspect) }
      : { width: Math.round(BASE_SIZE * aspect), height: BASE_SIZE };
  const { w, h, fit } = transform;
  let width: number;
  let height: number;
  if (w !== null && h !== null && fit !== "inside" && fit !== "outside") {
    ({ width, height } = { width: w, height: h });
  } else if (w !== null && h !== null) {
    const scale =
      fit === "inside"
        ? Math.min(w / original.width, h / original.height)
        : Math.max(w / original.width, h / original.height);
    ({ width, height } = { width: original.width * scale, height: original.height * scale });
  } else if (w !== null) {
    ({ width, height } = { width: w, height: w / aspect });
  } else if (h !== null) {
    ({ width, height } = { width: h * aspect, height: h });
  } else return original;
  const shrink = Math.min(1, original.width / width, original.height / height);
  return { width: Math.max(1, Math.round(width * shrink)), height: Math.max(1, Math.round(height * shrink)) };
}

/** The lines a waiting image says, by kind. */
function headline(kind: WaitingKind): string {
  return kind === "generating" ? "generating…" : kind === "failed" ? "generation failed" : "not generated";
}

/**
 * The waiting images of a directive, one per take (`n`), rendered once into `<cacheDir>/placeholders/` (ignored by
 * git, like every placeholder) and reused by later loads. An `as=srcset|picture` take has one more per output (each
 * width and format), so the page's every candidate and source is a file of its own that the dev client swaps for the
 * real output of the same width and format.
 */
export async function waitingImages(
  directive: Directive,
  kind: WaitingKind,
  options: ResolvedOptions,
): Promise<ReadyImage[]> {
  const dir = join(options.cacheDir, "placeholders");
  const { generation } = directive;
  const shapes = directive.output.as === "metadata" ? [] : outputTransforms(directive);
  return Promise.all(
    Array.from({ length: generation.n }, async (_, index): Promise<ReadyImage> => {
      const file = (transform: Transform) => waitingFile(directive, kind, transform, index, dir);
      const image: ReadyImage = {
        ...(await file(directive.transform)),
        prompt: generation.prompt,
        model: generation.model,
        index,
        status: "placeholder",
      };
      return shapes.length === 0 ? image : { ...image, outputs: await Promise.all(shapes.map(file)) };
    }),
  );
}

/** One take's waiting image at the size and format of `transform`, rendered unless it is there already. */
async function waitingFile(
  directive: Directive,
  kind: WaitingKind,
  transform: Transform,
  index: number,
  dir: string,
): Promise<ReadyOutput> {
  const { generation } = directive;
  const { width, height } = expectedSize(directive, transform);
  const hash = createHash("sha256")
    .update(JSON.stringify([kind, directive.generationKey, width, height, transform.format]))
    .digest("hex")
    .slice(0, 20);
  const file = join(
    dir,
    `grok-${kind}-${hash}-${index}.${transform.format === "jpeg" ? "jpg" : transform.format}`,
  );
  const exists = await stat(file).then(
    (s) => s.size > 0,
    () => false,
  );
  if (!exists) {
    await mkdir(dir, { recursive: true });
    await writeFileAtomic(join(dir, ".gitignore"), "*\n", { ifExists: "keep" });
    const take = generation.n > 1 ? ` · take ${index + 1} of ${generation.n}` : "";
    const svg = renderSvg(width, height, headline(kind), `${generation.prompt}${take}`);
    // Loaded here, not with the plugin: a build never renders one, and a cached build never loads sharp.
    const { default: sharp } = await import("sharp");
    const data = await sharp(Buffer.from(svg)).toFormat(transform.format, { quality: 70 }).toBuffer();
    await writeFileAtomic(file, data, { ifExists: "keep" });
  }
  return { file, width, height, format: transform.format };
}

/** The name the dev client looks for in URLs: the file name without its extension. */
export function waitingName(file: string): string {
  return WAITING_NAME.exec(basename(file))?.[0] ?? "";
}

/** A calm, unmistakably unfinished picture: a soft gradient, the headline and the prompt. */
function renderSvg(width: number, height: number, title: string, prompt: string): string {
  const unit = Math.max(6, Math.min(width, height) / 14);
  const titleSize = Math.round(Math.min(unit * 1.3, width / 9));
  const bodySize = Math.round(Math.min(unit * 0.65, width / 16));
  const lines = wrapWords(prompt, Math.max(8, Math.floor((width * 0.85) / (bodySize * 0.55))), 4);
  const body = lines
    .map(
      (line, i) =>
        `<text x="50%" y="${Math.round(height / 2 + titleSize * 0.4 + bodySize * 1.45 * (i + 1))}">${escapeXml(line)}</text>`,
    )
    .join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
  <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
    <stop offset="0" stop-color="#dfe6ee"/><stop offset="1" stop-color="#c3cedb"/>
  </linearGradient></defs>
  <rect width="100%" height="100%" fill="url(#g)"/>
  <g font-family="DejaVu Sans, Helvetica, Arial, sans-serif" text-anchor="middle" fill="#3d4a5c">
    <text x="50%" y="${Math.round(height / 2 - titleSize * 0.1)}" font-size="${titleSize}" font-weight="bold">${escapeXml(title)}</text>
    <g font-size="${bodySize}" fill="#556377">${body}</g>
  </g>
</svg>`;
}
