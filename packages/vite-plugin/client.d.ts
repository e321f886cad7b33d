/**
 * Types for `grok:` imports. Reference them once per project:
 *
 *   /// <reference types="vite-plugin-grok-image/client" />
 *
 * or add "vite-plugin-grok-image/client" to `compilerOptions.types`. This file has no top-level import or export
 * on purpose: it must stay a global declaration file for the `grok:*` wildcard to match.
 *
 * `as=srcset` and `as=picture` are typed when `as=` is the directive's last param (`grok:a fox?w=320;640&as=srcset`):
 * TypeScript allows one `*` per pattern, and among patterns of equal prefix the one declared first wins, so these
 * two come before `grok:*`. Elsewhere in the query, the import is typed as one image.
 */

declare module "grok:*as=srcset" {
  /** `"<url> 320w, <url> 640w, ..."`: one candidate per width, for `<img srcset>` or `<source srcset>`. */
  const srcset: string;
  /** The srcset of each of the directive's `n` images. */
  export const images: readonly string[];
  /** The `alt=` param, else the prompt: a sensible default for `alt`. */
  export const alt: string;
  export default srcset;
}

declare module "grok:*as=picture" {
  /** What a `<picture>` needs: one srcset per format (in the order written), and the `<img>` fallback. */
  interface GrokPicture {
    /** Format -> srcset, e.g. `{ avif: "<url> 320w, ...", webp: "..." }`; the last format is the fallback's. */
    sources: { avif?: string; webp?: string; jpeg?: string; png?: string };
    /** The fallback: the last format at the largest width. */
    img: {
      src: string;
      width: number;
      height: number;
      /** A tiny `data:` URI (`placeholder=blur`) or the dominant colour `#rrggbb` (`placeholder=color`). */
      placeholder?: string;
    };
  }
  const picture: GrokPicture;
  /** The picture of each of the directive's `n` images. */
  export const images: readonly GrokPicture[];
  /** The `alt=` param, else the prompt: a sensible default for `alt`. */
  export const alt: string;
  export default picture;
}

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
    /** The inline preview, when asked for: a tiny `data:` URI (`blur`) or the dominant colour `#rrggbb` (`color`). */
    placeholder?: string;
  }
  /** The image the directive picks: the first of its `n` takes, or the `pick=k`th. */
  const image: GrokImage;
  /** All `n` images of the directive, in the task's order (`pick=k` is `images[k - 1]`). */
  export const images: readonly GrokImage[];
  /** The `alt=` param, else the normalized prompt (without a style's text): a sensible default for `alt`. */
  export const alt: string;
  export default image;
}
