/**
 * Types for `grok:` imports. Reference them once per project:
 *
 *   /// <reference types="vite-plugin-grok-image/client" />
 *
 * or add "vite-plugin-grok-image/client" to `compilerOptions.types`. This file has no top-level import or export
 * on purpose: it must stay a global declaration file for the `grok:*` wildcard to match.
 */

declare module "grok:*" {
  /** One generated image, shaped like Astro's `ImageMetadata` plus what produced it. */
  interface GrokImage {
    /** URL of the optimized file (hashed asset in a build, a dev-server URL in dev). */
    src: string;
    width: number;
    height: number;
    format: "webp" | "avif" | "jpeg" | "png";
    /** The normalized prompt. */
    prompt: string;
    /** The model that generated it, e.g. `grok-imagine/text-to-image-lite`. */
    model: string;
    /** Position among the task's `n` outputs. */
    index: number;
    /** Tiny inline data-URI preview, when the `placeholder` option is on. */
    placeholder?: string;
  }
  /** The image the directive picks: the first of its `n` takes, or the `pick=k`th. */
  const image: GrokImage;
  /** All `n` images of the directive, in the task's order (`pick=k` is `images[k - 1]`). */
  export const images: readonly GrokImage[];
  /** The normalized prompt: a sensible default for `alt`. */
  export const alt: string;
  export default image;
}
