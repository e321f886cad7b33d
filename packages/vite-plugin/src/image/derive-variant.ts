import sharp, { type Sharp } from "sharp";
import type { OutputFormat, Transform } from "../types.js";
import { blurPlaceholder } from "./placeholder.js";
import { type Provenance, provenanceXmp } from "./provenance-xmp.js";

export interface DeriveVariantOptions {
  /** Model and prompt for the AI-generated XMP marking; `null` or absent writes no metadata at all. */
  provenance?: Provenance | null;
  /** Also compute the tiny inline preview of the result. */
  placeholder?: boolean;
}

export interface DerivedVariant {
  data: Buffer;
  width: number;
  height: number;
  format: OutputFormat;
  /** `data:` URI, when `placeholder` was asked for. */
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
  let pipeline = sharp(input).autoOrient();
  if (transform.w !== null || transform.h !== null) {
    const both = transform.w !== null && transform.h !== null;
    pipeline = pipeline.resize({
      ...(transform.w !== null ? { width: transform.w } : {}),
      ...(transform.h !== null ? { height: transform.h } : {}),
      fit: transform.fit ?? (both ? "cover" : "inside"),
      withoutEnlargement: true,
    });
  }
  pipeline = encode(pipeline, transform.format, transform.quality);
  if (opts.provenance) pipeline = pipeline.withXmp(provenanceXmp(opts.provenance));
  const { data, info } = await pipeline.toBuffer({ resolveWithObject: true });
  const result: DerivedVariant = { data, width: info.width, height: info.height, format: transform.format };
  if (opts.placeholder) result.placeholder = await blurPlaceholder(data);
  return result;
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
