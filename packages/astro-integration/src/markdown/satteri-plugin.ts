import { isDirectiveUrl, promptOf, toMarkdownSpecifier } from "./markdown-specifier.js";

/*
 * The few shapes of Sätteri's plugin API this file relies on, declared here so the integration needs no direct
 * dependency on `satteri` (Astro brings it; an Astro project does not list it).
 */
interface ImageNode {
  readonly url: string;
  readonly alt?: string | null;
}
interface MdastContext {
  setProperty(node: ImageNode, key: "url" | "alt", value: string): void;
}

/** A Sätteri mdast plugin (`markdown.processor.options.mdastPlugins`). */
export interface SatteriImagePlugin {
  readonly name: string;
  image(node: ImageNode, ctx: MdastContext): void;
}

/**
 * Rewrites `![alt](grok:...)` so Astro's own image collection imports it. Runs before Astro's `collect-images`
 * plugin, which Astro always appends after the user's mdast plugins, for `.md` and (through `@astrojs/mdx`,
 * which shares the processor) `.mdx`.
 */
export const satteriGrokImages: SatteriImagePlugin = {
  name: "astro-grok-image",
  image(node, ctx) {
    if (!isDirectiveUrl(node.url)) return;
    if (!node.alt) ctx.setProperty(node, "alt", promptOf(node.url));
    ctx.setProperty(node, "url", toMarkdownSpecifier(node.url));
  },
};
