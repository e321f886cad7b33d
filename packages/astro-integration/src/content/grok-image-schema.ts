import { z } from "astro/zod";
import { isDirectiveUrl, toMarkdownSpecifier } from "../markdown/markdown-specifier.js";

/**
 * A content collection image field that accepts a `grok:` directive as well as a path, for the `image` helper a
 * collection's `schema` function receives:
 *
 * @example
 * // src/content.config.ts
 * import { grokImageSchema } from "astro-grok-image/content";
 * const blog = defineCollection({
 *   loader: glob({ pattern: "**\/*.md", base: "./src/content/blog" }),
 *   schema: ({ image }) => z.object({ cover: grokImageSchema(image) }),
 * });
 * // frontmatter: cover: "grok:a misty forest?w=800"
 *
 * `image()` alone cannot take a directive: Astro reads `grok:...` as a remote URL and never imports it. This
 * writes the directive as the same bare specifier the Markdown rewrite uses, which `image()` then records like a
 * relative path, so Astro imports it from `.astro/content-assets.mjs` and the entry's field is `ImageMetadata`.
 * Any other value reaches `image()` unchanged.
 *
 * @param image the `image` function of the schema context (`schema: ({ image }) => ...`).
 */
export function grokImageSchema<Schema extends z.ZodType>(image: () => Schema) {
  return z.preprocess(
    (value) => (typeof value === "string" && isDirectiveUrl(value) ? toMarkdownSpecifier(value) : value),
    image(),
  );
}
