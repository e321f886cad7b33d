import sharp, { type Metadata } from "sharp";
import { GrokImageError } from "../errors.js";

/** The raster formats an original may have. Anything else (SVG, PDF, TIFF...) is not an image we ship. */
export const ORIGINAL_FORMATS = ["jpeg", "png", "webp", "avif", "gif"] as const;
export type OriginalFormat = (typeof ORIGINAL_FORMATS)[number];

export interface ImageInfo {
  /** `jpeg`, `png`, `webp`, `avif` or `gif`: sharp's name, except that AV1-compressed HEIF is `avif`. */
  format: OriginalFormat;
  /** As displayed, after EXIF orientation. */
  width: number;
  height: number;
}

/**
 * Reads the format and size from the image header (no pixel decoding). Bytes that are not one of the
 * accepted raster formats are rejected as GROK_DOWNLOAD_REJECTED: this runs on downloaded bytes.
 */
export async function readImageInfo(bytes: Buffer): Promise<ImageInfo> {
  let metadata: Metadata;
  try {
    metadata = await sharp(bytes).metadata();
  } catch (error) {
    throw new GrokImageError(
      "GROK_DOWNLOAD_REJECTED",
      `The downloaded file (${bytes.length} bytes) is not an image.`,
      {
        hint: "The download host returned something else than an image; generating again usually helps.",
        cause: error,
      },
    );
  }
  const format = metadata.format === "heif" && metadata.compression === "av1" ? "avif" : metadata.format;
  if (!(ORIGINAL_FORMATS as readonly string[]).includes(format)) {
    throw new GrokImageError(
      "GROK_DOWNLOAD_REJECTED",
      `The downloaded file is a ${format} image; accepted formats are ${ORIGINAL_FORMATS.join(", ")}.`,
      { hint: "Generating again usually helps; report the model if it keeps returning this format." },
    );
  }
  const { width, height } = metadata.autoOrient ?? metadata;
  if (!width || !height) {
    throw new GrokImageError("GROK_DOWNLOAD_REJECTED", "The downloaded image has no width or height.", {
      hint: "The file is damaged; generating again usually helps.",
    });
  }
  return { format: format as OriginalFormat, width, height };
}
