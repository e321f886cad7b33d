import { defaultAltOf, isDirectiveUrl, toMarkdownSpecifier } from "./markdown-specifier.js";
import { type MdastLike, spacedImageReplacements } from "./spaced-image-replacements.js";

interface MdastNode extends MdastLike {
  url?: string;
  alt?: string | null;
  children?: MdastNode[];
}

/** The part of a vfile this plugin reads: the document remark parsed, which node positions point into. */
interface SourceFile {
  readonly value?: unknown;
}

function sourceOf(file: SourceFile | undefined): string | undefined {
  const value = file?.value;
  if (typeof value === "string") return value;
  return value instanceof Uint8Array ? new TextDecoder().decode(value) : undefined;
}

// A parsed image's URL is the parser's reading of the source (escapes and entities decoded), which smartypants,
// working on text nodes only, never touches: it is the directive as written. Text is another matter, see
// spaced-image-replacements.ts.
function rewrite(node: MdastNode, source: string | undefined): void {
  if (node.type === "image" && typeof node.url === "string" && isDirectiveUrl(node.url)) {
    if (!node.alt) node.alt = defaultAltOf(node.url);
    node.url = toMarkdownSpecifier(node.url);
  }
  if (!node.children) return;
  const replacements = spacedImageReplacements(node.children, source);
  if (replacements.size > 0) {
    node.children = node.children.flatMap((child, index): MdastNode[] => replacements.get(index) ?? [child]);
  }
  for (const child of node.children) rewrite(child, source);
}

/**
 * The same rewrite as `satteriGrokImages`, as a remark plugin for projects that chose the `unified` processor
 * from `@astrojs/markdown-remark`. Astro runs its image collection after the user's remark plugins there too.
 */
export function remarkGrokImages(): (tree: MdastNode, file?: SourceFile) => void {
  return (tree, file) => rewrite(tree, sourceOf(file));
}
