import { unescapeMarkdown } from "vite-plugin-grok-image/markdown";
import { defaultAltOf, toMarkdownSpecifier } from "./markdown-specifier.js";

/*
 * `![alt](grok:a misty forest)` is how the spec writes a Markdown directive, but CommonMark forbids spaces in a
 * bare link destination, so every Markdown parser leaves it as paragraph text and Astro would ship it verbatim.
 * This finds that text among a parent's children and says which children to swap for images.
 *
 * The directive is read from the source as written, through each text node's position, never from the node's
 * value: by the time any plugin sees the tree, Astro's default `smartypants` has curled the quotes in every text
 * value and turned `--`, `---` and `...` into dashes and an ellipsis (Sätteri does it while parsing; the unified
 * pipeline runs remark-smartypants before user plugins). A prompt taken from there is not the one written: the
 * `%20` and `<…>` spellings (real images, whose URL the parser leaves alone) and `.astro` imports of it would be a
 * second paid generation, and a curled title stops looking like a title and lands in the last param. Reading the
 * source also makes the raw directive the same string `findDirectives` gives the CLI (both use `unescapeMarkdown` of vite-plugin-grok-image).
 * The alt and the prose kept around the image do come from the values, so they keep the page's typography, as
 * a real image's alt does. A text node without a position (made by a plugin, not the parser) is read from its
 * value alone.
 *
 * The children are read as one string in which every non-text child (emphasis in the alt, a link, a code span)
 * stands for a single placeholder character: the alt may hold such children (`![a *big* fox](grok:...)`), the
 * destination and title may not, so a code span never contributes a directive.
 */

interface Point {
  readonly offset?: number | undefined;
}

/** The parts of an mdast node this file reads; both Sätteri's nodes and remark's have them. */
export interface MdastLike {
  readonly type: string;
  readonly value?: string;
  readonly alt?: string | null;
  readonly children?: readonly MdastLike[];
  readonly position?: { readonly start: Point; readonly end: Point } | undefined;
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
 * `![alt](grok:dest "title")`, as `findDirectives` reads it: the alt may span lines, hold backslash escapes and one
 * level of balanced brackets; the destination stays on one line and may hold escapes and one level of balanced
 * parentheses; a title needs whitespace before it and quotes around it. A parenthesised title is not taken here,
 * since `(watercolor)` at the end of a prompt is more likely part of it. The destination is lazy so a trailing
 * title is not swallowed into the prompt.
 */
const SPACED_IMAGE = new RegExp(
  String.raw`!\[(?<alt>(?:[^\[\]\\]|\\[\s\S]|\[[^\[\]]*\])*)\]\([ \t]*` +
    String.raw`(?<dest>grok:(?:[^\n()\\${PLACEHOLDER}]|\\[^\n${PLACEHOLDER}]|\((?:[^\n()\\${PLACEHOLDER}]|\\[^\n${PLACEHOLDER}])*\))*?)` +
    String.raw`(?:[ \t]+(?:"(?<t1>[^"\n${PLACEHOLDER}]*)"|'(?<t2>[^'\n${PLACEHOLDER}]*)'))?[ \t]*\)`,
  "dgu",
);

interface Piece {
  readonly start: number;
  readonly end: number;
  readonly node: MdastLike;
  /** What the piece contributes to the joined string: the source of a text node, else its value or a placeholder. */
  readonly text: string;
  /** Whether `text` is source, with Markdown escapes and entities still to decode. */
  readonly written: boolean;
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

/** A text node's source, when the node knows where it came from. */
function sourceOf(node: MdastLike, source: string | undefined): string | undefined {
  const start = node.position?.start.offset;
  const end = node.position?.end.offset;
  if (source === undefined || start === undefined || end === undefined || end < start) return undefined;
  return source.slice(start, end);
}

function pieceOf(node: MdastLike, start: number, source: string | undefined): Piece {
  if (node.type !== "text") return { start, end: start + 1, node, text: PLACEHOLDER, written: false };
  const written = sourceOf(node, source);
  const text = written ?? node.value ?? "";
  return { start, end: start + text.length, node, text, written: written !== undefined };
}

/** The decoded source between `from` and `to`: a destination or title, which the pattern keeps to text pieces. */
function writtenText(pieces: readonly Piece[], from: number, to: number): string {
  let text = "";
  for (const piece of pieces) {
    if (piece.end <= from || piece.start >= to || piece.node.type !== "text") continue;
    const part = piece.text.slice(
      Math.max(from, piece.start) - piece.start,
      Math.min(to, piece.end) - piece.start,
    );
    text += piece.written ? unescapeMarkdown(part) : part;
  }
  return text;
}

/**
 * The directive as the existing `![](grok:...)` path expects it: spaces (and tabs) percent-encoded, exactly the
 * `%20` form a user may write by hand, which `parseDirective` decodes back.
 */
export function encodeSpacedDirective(destination: string): string {
  return destination.trim().replace(/ /g, "%20").replace(/\t/g, "%09");
}

function imageOf(match: RegExpExecArray, pieces: readonly Piece[]): ImageNode {
  const span = (group: string) => match.indices?.groups?.[group];
  const written = (group: string) => {
    const at = span(group);
    return at ? writtenText(pieces, at[0], at[1]) : undefined;
  };
  const directive = encodeSpacedDirective(written("dest") ?? "");
  const [altStart, altEnd] = span("alt") ?? [0, 0];
  const alt = shownText(pieces, altStart, altEnd);
  return {
    type: "image",
    url: toMarkdownSpecifier(directive),
    // Astro requires alt text on optimized images: an empty alt becomes the prompt, as for `![](grok:...)`.
    alt: alt.trim() === "" ? defaultAltOf(directive) : alt,
    // As the parser reads a real image's title: as written, never curled.
    title: written("t1") ?? written("t2") ?? null,
  };
}

function count(text: string, char: string): number {
  return text.split(char).length - 1;
}

/** Index of the `nth` (1-based) `char` in `text`, or -1 when it has fewer. */
function nthIndexOf(text: string, char: string, nth: number): number {
  let at = -1;
  for (let seen = 0; seen < nth; seen++) {
    at = text.indexOf(char, at + 1);
    if (at === -1) return -1;
  }
  return at;
}

/** Characters that smartypants never adds or removes, and that decoding escapes and entities maps one to one. */
const STABLE = new Set(["!", "[", "]", ")"]);

/**
 * Where a cut of a written piece (at `offset` in the joined string) falls in the node's value, or -1. Every cut
 * this file makes is next to Markdown syntax: at an image's `!` or alt's `]`, or just past an alt's `[` or an
 * image's `)`. Those characters are stable, so the nth of them in the decoded source is the nth in the value.
 */
function valueCut(piece: Piece, offset: number): number {
  const value = piece.node.value ?? "";
  if (!piece.written) return offset - piece.start;
  if (offset <= piece.start) return 0;
  if (offset >= piece.end) return value.length;
  const before = unescapeMarkdown(piece.text.slice(0, offset - piece.start));
  const previous = before.at(-1) ?? "";
  if (STABLE.has(previous)) {
    const at = nthIndexOf(value, previous, count(before, previous));
    return at === -1 ? -1 : at + 1;
  }
  const next = piece.text.charAt(offset - piece.start);
  return STABLE.has(next) ? nthIndexOf(value, next, count(before, next) + 1) : -1;
}

/**
 * The text of a piece between `from` and `to`, as Astro shows it: from the node's value, so that it keeps
 * smartypants' typography like the rest of the page. Should the cuts not be found, the decoded source instead.
 */
function shownPart(piece: Piece, from: number, to: number): string {
  const start = valueCut(piece, from);
  const end = valueCut(piece, to);
  if (start !== -1 && end !== -1 && start <= end) return (piece.node.value ?? "").slice(start, end);
  return unescapeMarkdown(piece.text.slice(from - piece.start, to - piece.start));
}

/** The text of the joined string between `from` and `to` as Astro shows it; a non-text child as its plain text. */
function shownText(pieces: readonly Piece[], from: number, to: number): string {
  let text = "";
  for (const piece of pieces) {
    if (piece.end <= from || piece.start >= to) continue;
    text +=
      piece.node.type === "text"
        ? shownPart(piece, Math.max(from, piece.start), Math.min(to, piece.end))
        : plainText(piece.node);
  }
  return text;
}

/**
 * For the children of one mdast parent, the replacement of every child that `![alt](grok:...)` text touches,
 * by child index. Untouched children are absent (an empty map when there is nothing to do). The images carry
 * the Markdown specifier already, so the plugins' own `grok:` image rewrite has nothing left to do for them.
 *
 * @param source the document the parser read, which the children's positions point into
 */
export function spacedImageReplacements(
  children: readonly MdastLike[],
  source?: string,
): Map<number, Replacement> {
  const replacements = new Map<number, Replacement>();
  if (!children.some((child) => child.type === "text" && child.value?.includes("grok:"))) return replacements;

  const pieces: Piece[] = [];
  let flat = "";
  for (const node of children) {
    const piece = pieceOf(node, flat.length, source);
    pieces.push(piece);
    flat += piece.text;
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
      if (f.start > cursor) replacement.push({ type: "text", value: shownPart(piece, cursor, f.start) });
      if (f.start >= piece.start) replacement.push(f.image);
      cursor = Math.max(cursor, f.end);
    }
    if (cursor < piece.end) replacement.push({ type: "text", value: shownPart(piece, cursor, piece.end) });
    replacements.set(index, replacement);
  });
  return replacements;
}
