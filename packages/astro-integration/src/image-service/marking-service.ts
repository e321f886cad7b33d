import type { ImageService, LocalImageService } from "astro";
import { findGrokXmp, insertXmp } from "vite-plugin-grok-image/provenance";

type Transform = LocalImageService["transform"];

/**
 * An image service that wraps another: Astro's configured service (sharp by default) encodes as it always does, and
 * when the input carries grok-image's provenance XMP (which the integration writes into every image it hands
 * Astro, unless `provenance: false`), the same packet is written into the output's container, without encoding
 * again. Images that are not grok images pass through untouched: a packet counts only when grok-image wrote it.
 */
export function markingService(inner: ImageService): ImageService {
  if (!("transform" in inner) || typeof inner.transform !== "function") return inner;
  const transform: Transform = async (input, options, config, logger) => {
    const result = await inner.transform.call(inner, input, options, config, logger);
    const xmp = findGrokXmp(input);
    if (xmp === undefined) return result;
    // sharp reports AVIF output as "heif".
    const format = result.format === "heif" ? "avif" : result.format;
    try {
      return { ...result, data: insertXmp(result.data, format, xmp) };
    } catch (error) {
      warnOnce(
        logger,
        format,
        `grok-image could not write the AI-generated XMP marking into a ${format} file Astro made from ` +
          `${String(options.src)} (${(error as Error).message}); it ships unmarked. Ask <Image>/<Picture> for ` +
          "webp, avif, png or jpeg to keep the marking.",
      );
      return result;
    }
  };
  return { ...inner, transform } as LocalImageService;
}

const warned = new Set<string>();

function warnOnce(logger: { warn(message: string): void }, key: string, message: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  logger.warn(message);
}
