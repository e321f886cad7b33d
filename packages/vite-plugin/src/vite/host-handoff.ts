import type { Directive, OutputShape } from "../types.js";
import type { ImageImport } from "./module-code.js";

/**
 * A host that encodes images itself (Astro: `imageImport: "metadata"`) gets the original's pixels, as a local photo
 * would be (SPEC section 8: one lossy encode between the download and any shipped file). `as=srcset|picture` files
 * ship as they are, so they stay encoded files of ours.
 */
export function forHost(directive: Directive, imageImport: ImageImport): Directive {
  if (handoffFor(imageImport, directive.output.as) === "encoded") return directive;
  let handed = handedOver.get(directive);
  if (!handed) {
    handed = Object.freeze({ ...directive, handoff: "source" });
    handedOver.set(directive, handed);
  }
  return handed;
}

/** One handed-over copy per parsed directive (parse-directive.ts keeps those): a build asks for each again and again. */
const handedOver = new WeakMap<Directive, Directive>();

/** How a directive of this shape is handed to a host that imports images this way (`Directive.handoff`). */
export function handoffFor(imageImport: ImageImport, as: OutputShape): "encoded" | "source" {
  return imageImport === "metadata" && as === "metadata" ? "source" : "encoded";
}

const ENCODE_PARAM = /[?&]\s*(format|quality)\s*=/g;

/**
 * The warning for a directive whose `format=`/`quality=` a host's own options override (Astro encodes the handed
 * original with `<Image format quality>`, `<Picture formats>` or `getImage()`), or undefined when none applies.
 */
export function hostEncodeNotice(directive: Pick<Directive, "raw" | "handoff">): string | undefined {
  const at = directive.raw.indexOf("?");
  if (directive.handoff !== "source" || at < 0) return undefined;
  const written = [...new Set([...directive.raw.slice(at).matchAll(ENCODE_PARAM)].map((m) => m[1]))];
  if (written.length === 0) return undefined;
  const params = written.map((p) => `${p}=`).join(" and ");
  return (
    `${directive.raw}: ${params} ha${written.length === 1 ? "s" : "ve"} no effect in Astro. The import hands Astro ` +
    "the original pixels and Astro encodes them once: <Image format quality>, <Picture formats quality> and " +
    "getImage() decide (webp by default), and a raw img.src ships the original. Remove " +
    `${params.replaceAll("=", "")} from the directive and set them on the component, or use as=picture / ` +
    "as=srcset for files grok-image encodes itself."
  );
}
