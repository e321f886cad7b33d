import { hash } from "node:crypto";
import type { PlaceholderKind, Transform } from "../types.js";
import type { Provenance } from "./provenance-xmp.js";
import { sharpVersion } from "./sharp-version.js";

/** Bump when the derivation changes in a way the other inputs do not capture (encoder options, XMP layout). */
const VARIANT_SCHEMA = 1;

export interface VariantNameOptions {
  /**
   * Whether the variant carries the provenance XMP. Pass the model and prompt when known: two generations can
   * share an original's bytes, and the XMP differs between them.
   */
  provenance: boolean | Provenance;
  /** Which inline preview the sidecar holds (`true` is blur, `false` none). */
  placeholder: boolean | PlaceholderKind;
  /**
   * The file handed to a host that encodes it itself (derive-source.ts: the original plus XMP, or lossless WebP):
   * format and quality do not apply. @default false
   */
  source?: boolean;
}

/**
 * The transform key: names `variants/<name>.<ext>`. Covers everything that changes the output bytes (the
 * original, the resolved transform, the metadata, the sharp version with its bundled encoders) and nothing
 * machine-specific, so a committed variant is reused on every machine with the same sharp.
 */
export function variantName(originalSha256: string, transform: Transform, opts: VariantNameOptions): string {
  const resized = transform.w !== null || transform.h !== null;
  const bothSides = transform.w !== null && transform.h !== null;
  const fit = resized ? (transform.fit ?? (bothSides ? "cover" : "inside")) : null;
  // Older inputs keep their old names: a new field only joins the list when it changes the output.
  const placeholder =
    opts.placeholder === "blur" ? true : opts.placeholder === "none" ? false : opts.placeholder;
  const position =
    fit === "cover" && transform.position && transform.position !== "center" ? transform.position : null;
  const parts = [
    VARIANT_SCHEMA,
    sharpVersion(),
    originalSha256,
    transform.w,
    transform.h,
    // Resolved as deriveVariant resolves it, so equal outputs share one name.
    fit,
    opts.source ? "source" : transform.format,
    // PNG output is lossless: quality does not change it, so it must not split the cache.
    opts.source || transform.format === "png" ? null : transform.quality,
    typeof opts.provenance === "object" ? [opts.provenance.model, opts.provenance.prompt] : opts.provenance,
    placeholder,
    ...(position === null ? [] : [{ position }]),
  ];
  return hash("sha256", JSON.stringify(parts), "hex").slice(0, 32);
}
