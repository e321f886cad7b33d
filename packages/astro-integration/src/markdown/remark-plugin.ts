import { isDirectiveUrl, promptOf, toMarkdownSpecifier } from "./markdown-specifier.js";
import { spacedImageReplacements } from "./spaced-image-replacements.js";

interface MdastNode {
  type: string;
  url?: string;
  alt?: string | null;
  value?: string;
  children?: MdastNode[];
}

function rewrite(node: MdastNode): void {
  if (node.type === "image" && typeof node.url === "string" && isDirectiveUrl(node.url)) {
    if (!node.alt) node.alt = promptOf(node.url);
    node.url = toMarkdownSpecifier(node.url);
  }
  if (!node.children) return;
  const replacements = spacedImageReplacements(node.children);
  if (replacements.size > 0) {
    node.children = node.children.flatMap((child, index): MdastNode[] => replacements.get(index) ?? [child]);
  }
  for (const child of node.children) rewrite(child);
}

/**
 * The same rewrite as `satteriGrokImages`, as a remark plugin for projects that chose the `unified` processor
 * from `@astrojs/markdown-remark`. Astro runs its image collection after the user's remark plugins there too.
 */
export function remarkGrokImages(): (tree: MdastNode) => void {
  return rewrite;
}
