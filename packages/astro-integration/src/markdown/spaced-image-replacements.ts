import { promptOf, toMarkdownSpecifier } from "./markdown-specifier.js";

/*
 * `![alt](grok:a misty forest)` is how the spec writes a Markdown directive, but CommonMark forbids spaces in a
 * bare link destination, so every Markdown parser leaves it as paragraph text and Astro would ship it verbatim.
 * This finds that text among a parent's children and says which children to swap for images.
 *
 * The children are read as one string in which every non-text child (emphasis in the alt, a link, a code span)
 * stands for a single placeholder character: the alt may hold such children (`![a *big* fox](grok:...)`), the
 * destination and title may not, so a code span never contributes a directive. Text node values are already
 * unescaped by the parser, which is why the pattern below has no backslash rules.
 */

/** The parts of an mdast node this file reads; both Sätteri's nodes and remark's have them. */
export interface MdastLike {
  readonly type: string;
  readonly value?: string;
  readonly alt?: string | null;
  readonly children?: readonly MdastLike[];
}

export interface TextNode {
  type: "text";
  value: string;
}

export interface ImageNode {
  type: "image";
  url: string;
  alt: string;
  title: string | null;
}

/** What replaces one child: text kept around an image, the image itself, or nothing (a child inside an alt). */
export type Replacement = (TextNode | ImageNode)[];

const PLACEHOLDER = "\uFFFC";

/*
 * `![alt](grok:dest "title")`: the alt may span lines and hold one level of balanced brackets; the destination stays
 * on one line and may hold one level of balanced parentheses; a title needs whitespace before it and quotes
 * around it. A parenthesised title is not taken here, since `(watercolor)` at the end of a prompt is more likely
 * part of it. The destination is lazy so a trailing title is not swallowed into the prompt.
 */
const SPACED_IMAGE = new RegExp(
  String.raw`!\[(?<alt>(?:[^\[\]]|\[[^\[\]]*\])*)\]\([ \t]*` +
    String.raw`(?<dest>grok:(?:[^()\n${PLACEHOLDER}]|\([^()\n${PLACEHOLDER}]*\))*?)` +
    String.raw`(?:[ \t]+(?:"(?<t1>[^"\n${PLACEHOLDER}]*)"|'(?<t2>[^'\n${PLACEHOLDER}]*)'))?[ \t]*\)`,
  "dgu",
);

interface Piece {
  readonly start: number;
  readonly end: number;
  readonly node: MdastLike;
}

interface Found {
  readonly start: number;
  readonly end: number;
  readonly image: ImageNode;
}

/** The plain text of a node as CommonMark renders an image's alt: text, code, and nested images' alts. */
function plainText(node: MdastLike): string {
  if (node.type === "image") return node.alt ?? "";
  if (node.type === "break") return "\n";
  if (typeof node.value === "string" && node.type !== "html") return node.value;
  return (node.children ?? []).map(plainText).join("");
}

/**
 * The directive as the existing `![](grok:...)` path expects it: spaces (and tabs) percent-encoded, exactly the
 * `%20` form a user may write by hand, which `parseDirective` decodes back.
 */
export function encodeSpacedDirective(destination: string): string {
  return destination.trim().replace(/ /g, "%20").replace(/\t/g, "%09");
}

function imageOf(match: RegExpExecArray, pieces: readonly Piece[]): ImageNode {
  const groups = match.groups ?? {};
  const [altStart, altEnd] = match.indices?.groups?.alt ?? [0, 0];
  let alt = "";
  for (const piece of pieces) {
    if (piece.end <= altStart || piece.start >= altEnd) continue;
    alt +=
      piece.node.type === "text"
        ? (piece.node.value ?? "").slice(
            Math.max(altStart, piece.start) - piece.start,
            Math.min(altEnd, piece.end) - piece.start,
          )
        : plainText(piece.node);
  }
  const directive = encodeSpacedDirective(groups.dest ?? "");
  return {
    type: "image",
    url: toMarkdownSpecifier(directive),
    // Astro requires alt text on optimized images: an empty alt becomes the prompt, as for `![](grok:...)`.
    alt: alt.trim() === "" ? promptOf(directive) : alt,
    title: groups.t1 ?? groups.t2 ?? null,
  };
}

function textSlice(piece: Piece, from: number, to: number): TextNode {
  return { type: "text", value: (piece.node.value ?? "").slice(from - piece.start, to - piece.start) };
}

/**
 * For the children of one mdast parent, the replacement of every child that `![alt](grok:...)` text touches,
 * by child index. Untouched children are absent (an empty map when there is nothing to do). The images carry
 * the Markdown specifier already, so the plugins' own `grok:` image rewrite has nothing left to do for them.
 */
export function spacedImageReplacements(children: readonly MdastLike[]): Map<number, Replacement> {
  const replacements = new Map<number, Replacement>();
  if (!children.some((child) => child.type === "text" && child.value?.includes("grok:"))) return replacements;

  const pieces: Piece[] = [];
  let flat = "";
  for (const node of children) {
    const part = node.type === "text" ? (node.value ?? "") : PLACEHOLDER;
    pieces.push({ start: flat.length, end: flat.length + part.length, node });
    flat += part;
  }

  const found: Found[] = [];
  for (const match of flat.matchAll(SPACED_IMAGE)) {
    found.push({ start: match.index, end: match.index + match[0].length, image: imageOf(match, pieces) });
  }

  pieces.forEach((piece, index) => {
    const touching = found.filter((f) => f.start < piece.end && f.end > piece.start);
    if (touching.length === 0) return;
    // A non-text child a match touches lies inside the alt (the pattern keeps placeholders out of the rest).
    if (piece.node.type !== "text") {
      replacements.set(index, []);
      return;
    }
    const replacement: Replacement = [];
    let cursor = piece.start;
    for (const f of touching) {
      if (f.start > cursor) replacement.push(textSlice(piece, cursor, f.start));
      if (f.start >= piece.start) replacement.push(f.image);
      cursor = Math.max(cursor, f.end);
    }
    if (cursor < piece.end) replacement.push(textSlice(piece, cursor, piece.end));
    replacements.set(index, replacement);
  });
  return replacements;
}
