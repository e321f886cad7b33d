import sharp from "sharp";
import type { OutputFormat, PlaceholderKind, Transform } from "../types.js";
import { type DerivedVariant, previewOf, resized } from "./derive-variant.js";
import { type Provenance, provenanceXmp } from "./provenance-xmp.js";
import { insertXmp, UnsupportedLayoutError } from "./xmp/index.js";

export interface DeriveSourceOptions {
  /** Model and prompt for the XMP marking; `null` or absent leaves the bytes unmarked. */
  provenance?: Provenance | null;
  placeholder?: boolean | PlaceholderKind;
}

/** Original formats handed over as they are (plus the XMP): the ones `insertXmp` writes and every host decodes. */
const AS_IS: readonly string[] = ["jpeg", "png", "webp", "avif"];

/** Whether an original of this format, under this transform, is handed over byte for byte (plus the XMP). */
export function handedAsIs(originalFormat: string, transform: Transform): boolean {
  return transform.w === null && transform.h === null && AS_IS.includes(originalFormat);
}

/**
 * The file handed to a host that encodes images itself (Astro's image service), as a local photo would be: no lossy
 * step of ours, so the host's encode is the only one between the download and what ships.
 *
 * - No resize or crop: the original's own bytes, with the provenance XMP written into the container (no
 *   re-encode: the pixels are exactly the downloaded ones).
 * - A resize or crop the directive asks for, or an original the XMP writer cannot extend: lossless WebP of the
 *   result (exact pixels, the XMP included), smaller than PNG and read by every host.
 */
export async function deriveSource(
  original: Buffer,
  originalFormat: string,
  transform: Transform,
  opts: DeriveSourceOptions = {},
): Promise<DerivedVariant> {
  const xmp = opts.provenance ? provenanceXmp(opts.provenance) : undefined;
  if (handedAsIs(originalFormat, transform)) {
    try {
      const data = xmp === undefined ? original : Buffer.from(insertXmp(original, originalFormat, xmp));
      const info = await sharp(data).metadata();
      const { width, height } = info.autoOrient ?? info;
      const result: DerivedVariant = { data, width, height, format: originalFormat as OutputFormat };
      const preview = await previewOf(data, opts.placeholder);
      if (preview) result.placeholder = preview;
      return result;
    } catch (error) {
      if (!(error instanceof UnsupportedLayoutError)) throw error;
    }
  }
  let pipeline = resized(sharp(original).autoOrient(), transform).webp({
    lossless: true,
    exact: true,
    effort: 4,
  });
  if (xmp !== undefined) pipeline = pipeline.withXmp(xmp);
  const { data, info } = await pipeline.toBuffer({ resolveWithObject: true });
  const result: DerivedVariant = { data, width: info.width, height: info.height, format: "webp" };
  const preview = await previewOf(data, opts.placeholder);
  if (preview) result.placeholder = preview;
  return result;
}
