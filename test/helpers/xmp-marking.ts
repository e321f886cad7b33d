/*
 * The AI-generated marking (SPEC section 8) as a build test reads it: every image file under an output directory,
 * decoded with sharp, carries grok-image's XMP packet with the IPTC digital source type, the model and the prompt.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { listFiles } from "./dist-files.js";

export const TRAINED_ALGORITHMIC_MEDIA =
  "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia";

export interface MarkedImage {
  file: string;
  format: string;
  xmp: string | undefined;
}

/** Every `.webp`, `.avif`, `.png`, `.jpg`/`.jpeg` file under `dir`, decoded, with its XMP packet. */
export async function imageFilesWithXmp(dir: string): Promise<MarkedImage[]> {
  const files = (await listFiles(dir)).filter((file) => /\.(?:webp|avif|png|jpe?g)$/i.test(file));
  return Promise.all(
    files.map(async (file) => {
      const bytes = await readFile(path.join(dir, file));
      const meta = await sharp(bytes).metadata();
      // Decoding the pixels too: a marking that breaks the file would not count.
      await sharp(bytes).raw().toBuffer();
      return {
        file,
        format: meta.format === "heif" ? "avif" : meta.format,
        xmp: meta.xmp?.toString("utf8"),
      };
    }),
  );
}

/** Which of the images lack the marking (empty when all carry it), each with what is missing. */
export function unmarked(images: readonly MarkedImage[], model = "grok-imagine/text-to-image-"): string[] {
  return images
    .filter(
      (image) =>
        !image.xmp?.includes(TRAINED_ALGORITHMIC_MEDIA) ||
        !image.xmp.includes(`<Iptc4xmpExt:AISystemUsed>${model}`) ||
        !image.xmp.includes("<Iptc4xmpExt:AIPromptInformation>"),
    )
    .map((image) => `${image.file} (${image.format}): ${image.xmp ? "XMP without the marking" : "no XMP"}`);
}
