import { isDirectiveUrl, promptOf, toMarkdownSpecifier } from "./markdown-specifier.js";
import { type MdastLike, type Replacement, spacedImageReplacements } from "./spaced-image-replacements.js";

/*
 * The few shapes of Sätteri's plugin API this file relies on, declared here so the integration needs no direct
 * dependency on `satteri` (Astro brings it; an Astro project does not list it).
 */
interface ImageNode {
  readonly url: string;
  readonly alt?: string | null;
}
interface TextNode {
  readonly type: "text";
  readonly value: string;
}
interface MdastContext {
  setProperty(node: ImageNode, key: "url" | "alt", value: string): void;
  parent(node: TextNode): { readonly children: readonly MdastLike[] } | undefined;
  indexOf(node: TextNode): number | undefined;
  replaceNode(node: MdastLike, replacement: Replacement): void;
}

/** A Sätteri mdast plugin (`markdown.processor.options.mdastPlugins`). */
export interface SatteriImagePlugin {
  readonly name: string;
  image(node: ImageNode, ctx: MdastContext): void;
  text(node: TextNode, ctx: MdastContext): void;
}

/**
 * Rewrites `![alt](grok:...)` so Astro's own image collection imports it. Runs before Astro's `collect-images`
 * plugin, which Astro always appends after the user's mdast plugins, for `.md` and (through `@astrojs/mdx`,
 * which shares the processor) `.mdx`. Sätteri applies a plugin's mutations after its walk and hands the next
 * plugin the mutated tree, so `collect-images` sees the images made from text too.
 */
export const satteriGrokImages: SatteriImagePlugin = {
  name: "astro-grok-image",
  image(node, ctx) {
    if (!isDirectiveUrl(node.url)) return;
    if (!node.alt) ctx.setProperty(node, "alt", promptOf(node.url));
    ctx.setProperty(node, "url", toMarkdownSpecifier(node.url));
  },
  // `![alt](grok:a misty forest)` (spaces, so not an image to the parser) is text, possibly several text nodes
  // around the alt's emphasis. The parent's children are read once, from its first text child: the tree does not
  // change during the walk, so that needs no state shared between visits (or between documents).
  text(node, ctx) {
    const siblings = ctx.parent(node)?.children;
    if (!siblings || siblings.findIndex((child) => child.type === "text") !== ctx.indexOf(node)) return;
    for (const [index, replacement] of spacedImageReplacements(siblings)) {
      const child = siblings[index];
      if (child) ctx.replaceNode(child, replacement);
    }
  },
};
