import { defaultAltOf, isDirectiveUrl, toMarkdownSpecifier } from "./markdown-specifier.js";
import { type MdastLike, type Replacement, spacedImageReplacements } from "./spaced-image-replacements.js";

/*
 * The few shapes of Sätteri's plugin API this file relies on, declared here so the integration needs no direct
 * dependency on `satteri` (Astro brings it; an Astro project does not list it).
 */
interface ImageNode {
  readonly url: string;
  readonly alt?: string | null;
}
interface TextNode extends MdastLike {
  readonly type: "text";
  readonly value: string;
}
interface MdastContext {
  /** The document as the parser read it, which node positions point into. */
  readonly source: string;
  setProperty(node: ImageNode, key: "url" | "alt", value: string): void;
  parent(node: TextNode): { readonly children: readonly MdastLike[] } | undefined;
  indexOf(node: TextNode): number | undefined;
  replaceNode(node: MdastLike, replacement: Replacement): void;
}

/** A Sätteri mdast plugin. */
export interface SatteriImagePlugin {
  readonly name: string;
  /** `position: true`: the text visitor reads the source through node positions, which Sätteri tracks on request. */
  readonly options: { readonly position: boolean };
  image(node: ImageNode, ctx: MdastContext): void;
  text(node: TextNode, ctx: MdastContext): void;
}

/** What Sätteri tells a plugin factory about a document before parsing it. */
export interface SatteriPluginFactoryContext {
  readonly source: string;
}

const plugin: SatteriImagePlugin = {
  name: "astro-grok-image",
  options: { position: true },
  // A parsed image's URL is the parser's reading of the source (escapes and entities decoded), which smart
  // punctuation, applied to text only, never touches: it is the directive as written.
  image(node, ctx) {
    if (!isDirectiveUrl(node.url)) return;
    if (!node.alt) ctx.setProperty(node, "alt", defaultAltOf(node.url));
    ctx.setProperty(node, "url", toMarkdownSpecifier(node.url));
  },
  // `![alt](grok:a misty forest)` (spaces, so not an image to the parser) is text, possibly several text nodes
  // around the alt's emphasis, and read from the source (see spaced-image-replacements.ts). The parent's children
  // are read once, from its first text child: the tree does not change during the walk, so that needs no state
  // shared between visits (or between documents).
  text(node, ctx) {
    const siblings = ctx.parent(node)?.children;
    if (!siblings || siblings.findIndex((child) => child.type === "text") !== ctx.indexOf(node)) return;
    for (const [index, replacement] of spacedImageReplacements(siblings, ctx.source)) {
      const child = siblings[index];
      if (child) ctx.replaceNode(child, replacement);
    }
  },
};

/**
 * Rewrites `![alt](grok:...)` so Astro's own image collection imports it. Runs before Astro's `collect-images`
 * plugin, which Astro always appends after the user's mdast plugins, for `.md` and (through `@astrojs/mdx`,
 * which shares the processor) `.mdx`. Sätteri applies a plugin's mutations after its walk and hands the next
 * plugin the mutated tree, so `collect-images` sees the images made from text too.
 *
 * A plugin factory (`markdown.processor.options.mdastPlugins` takes both): a document without `grok:` leaves the
 * plugin out, so it neither runs nor makes Sätteri track positions for it.
 */
export function satteriGrokImages(context: SatteriPluginFactoryContext): SatteriImagePlugin | null {
  return context.source.includes("grok:") ? plugin : null;
}
