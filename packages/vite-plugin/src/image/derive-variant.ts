import sharp, { type Sharp } from "sharp";
import type { OutputFormat, PlaceholderKind, Transform } from "../types.js";
import { dominantColor } from "./dominant-color.js";
import { blurPlaceholder } from "./placeholder.js";
import { type Provenance, provenanceXmp } from "./provenance-xmp.js";

export interface DeriveVariantOptions {
  /** Model and prompt for the AI-generated XMP marking; `null` or absent writes no metadata at all. */
  provenance?: Provenance | null;
  /** Also compute the inline preview of the result: a blurred data URI (`true` or `"blur"`) or its dominant colour. */
  placeholder?: boolean | PlaceholderKind;
}

export interface DerivedVariant {
  data: Buffer;
  width: number;
  height: number;
  format: OutputFormat;
  /** A `data:` URI (blur) or `#rrggbb` (color), when `placeholder` was asked for. */
  placeholder?: string;
}

/**
 * The file a page ships, from an original: EXIF orientation applied, resized without ever enlarging, encoded
 * in the transform's format and quality. Input metadata (EXIF with camera or GPS data, ICC, XMP) is stripped;
 * the only metadata written is the provenance XMP.
 *
 * Quality applies to webp, avif and jpeg. PNG stays lossless (zlib level 9, adaptive filtering): palette
 * quantization at a given quality bands the gradients of generated images too visibly to be a default.
 */
export async function deriveVariant(
  input: Buffer | string,
  transform: Transform,
  opts: DeriveVariantOptions = {},
): Promise<DerivedVariant> {
  let pipeline = resized(sharp(input).autoOrient(), transform);
  pipeline = encode(pipeline, transform.format, transform.quality);
  if (opts.provenance) pipeline = pipeline.withXmp(provenanceXmp(opts.provenance));
  const { data, info } = await pipeline.toBuffer({ resolveWithObject: true });
  const result: DerivedVariant = { data, width: info.width, height: info.height, format: transform.format };
  const preview = await previewOf(data, opts.placeholder);
  if (preview) result.placeholder = preview;
  return result;
}

/** The transform's resize and crop (sharp's `attention`/`entropy` strategies anchor a cover crop), never enlarging. */
export function resized(pipeline: Sharp, transform: Transform): Sharp {
  if (transform.w === null && transform.h === null) return pipeline;
  const both = transform.w !== null && transform.h !== null;
  const fit = transform.fit ?? (both ? "cover" : "inside");
  const position =
    fit === "cover" && transform.position && transform.position !== "center"
      ? sharp.strategy[transform.position]
      : undefined;
  return pipeline.resize({
    ...(transform.w !== null ? { width: transform.w } : {}),
    ...(transform.h !== null ? { height: transform.h } : {}),
    fit,
    ...(position === undefined ? {} : { position }),
    withoutEnlargement: true,
  });
}

/** The inline preview of encoded bytes for a placeholder kind (`true` is blur), or undefined for none. */
export async function previewOf(
  data: Buffer,
  kind: boolean | PlaceholderKind | undefined,
): Promise<string | undefined> {
  if (kind === true || kind === "blur") return blurPlaceholder(data);
  if (kind === "color") return dominantColor(data);
  return undefined;
}

function encode(pipeline: Sharp, format: OutputFormat, quality: number): Sharp {
  switch (format) {
    case "webp":
      return pipeline.webp({ quality });
    case "avif":
      return pipeline.avif({ quality });
    case "jpeg":
      // mozjpeg: smaller files at equal quality; progressive, which pages render sooner.
      return pipeline.jpeg({ quality, mozjpeg: true });
    case "png":
      return pipeline.png({ compressionLevel: 9, adaptiveFiltering: true });
  }
}
