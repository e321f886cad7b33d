import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

/** Something in built HTML that still carries a `grok:` directive instead of a generated image. */
export interface UnresolvedTag {
  /** The HTML file, relative to the output directory. */
  readonly page: string;
  /** The tag, or for `text` the Markdown image syntax as the page shows it, shortened. */
  readonly tag: string;
  /** An image attribute (`attribute`), or Markdown image syntax left in the page's text (`text`). */
  readonly kind: "attribute" | "text";
}

/*
 * Three ways an image attribute can escape resolution: a `grok:` URL written where nothing rewrites it (raw `<img>`
 * in Markdown, a string passed to `<img src>`), the Markdown specifier of a directive (`@grok-image/markdown/...`),
 * and Astro's `__ASTRO_IMAGE_` placeholder of a Markdown image it found no import for.
 */
const ASTRO_PLACEHOLDER = "__ASTRO_IMAGE_=";
const UNRESOLVED_URLS = String.raw`grok:|@grok-image\/markdown\/`;
const UNRESOLVED = new RegExp(
  String.raw`<[a-z][^>]*?(?:${ASTRO_PLACEHOLDER}|=\s*["'](?:${UNRESOLVED_URLS}))[^>]*>`,
  "gi",
);
/**
 * The words any of them holds, from the same parts. Most pages hold none, and one scan for these words costs a
 * fraction of trying the pattern above at every tag of the page.
 */
const UNRESOLVED_WORDS = new RegExp(`${ASTRO_PLACEHOLDER}|${UNRESOLVED_URLS}`, "i");

/*
 * And one way in text: Markdown image syntax that no parser took for an image, shipped as `![alt](grok:...)`. Text
 * that merely mentions `grok:` is not flagged, nor the syntax shown in code, a script, a style or a comment.
 */
const NOT_TEXT =
  /<!--[\s\S]*?-->|<(pre|code|kbd|samp|script|style|textarea|template)\b[^>]*>[\s\S]*?<\/\1\s*>/gi;
const TAG = /<\/?[a-z][^\s/>]*(?:\s+[^\s=/>]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?)*\s*\/?>/gi;
// The alt is bounded so an unrelated `![` far above a prose mention of `](grok:` is not read as one image.
const MARKDOWN_IMAGE_TEXT = /!\[[^[\]]{0,500}\]\(\s*(?:&lt;|<)?grok:[^)\n]*\)?/g;

const MAX_TAG_LENGTH = 160;

function shorten(tag: string): string {
  return tag.length > MAX_TAG_LENGTH ? `${tag.slice(0, MAX_TAG_LENGTH - 1)}…` : tag;
}

/** The page's visible text: no tags (an alt's `<em>` would split the syntax), no code, scripts or comments. */
function textOf(html: string): string {
  return html.replace(NOT_TEXT, " ").replace(TAG, "");
}

/** Every unresolved image in one page's HTML, attributes first. */
export function findUnresolvedIn(html: string): { tag: string; kind: UnresolvedTag["kind"] }[] {
  const found: { tag: string; kind: UnresolvedTag["kind"] }[] = [];
  if (!UNRESOLVED_WORDS.test(html)) return found;
  for (const [tag] of html.matchAll(UNRESOLVED)) found.push({ tag: shorten(tag), kind: "attribute" });
  if (html.includes("grok:")) {
    for (const [text] of textOf(html).matchAll(MARKDOWN_IMAGE_TEXT)) {
      found.push({ tag: shorten(text), kind: "text" });
    }
  }
  return found;
}

/**
 * Every unresolved image in the `.html` files under `outDir`. The pages are read synchronously, one after the other:
 * the build is over and nothing else runs, and a site of thousands of pages would otherwise wait on as many
 * thread-pool round trips. `assetsDir` (Astro's `build.assets`, relative to `outDir`) holds the build's hashed
 * files and no page: it is not listed, which in a site of thousands of images was most of what this check cost.
 */
export async function findUnresolvedHtml(outDir: string, assetsDir?: string): Promise<UnresolvedTag[]> {
  const found: UnresolvedTag[] = [];
  // Written as the walk writes its folders: relative, `/`-separated, with a trailing `/`. A folder only: the output
  // directory itself ("" or ".") is walked whatever the option says.
  const assets = assetsDir?.replaceAll("\\", "/").replace(/^(?:\.\/)+|\/+$/g, "");
  const skipped = assets && assets !== "." && !assets.startsWith("../") ? `${assets}/` : undefined;
  for (const page of htmlFiles(outDir, "", [], skipped).sort()) {
    const html = readFileSync(path.join(outDir, page), "utf8");
    for (const unresolved of findUnresolvedIn(html)) found.push({ page, ...unresolved });
  }
  return found;
}

/**
 * The `.html` files under `dir`, as paths relative to it written with `/`. Walked folder by folder with the entries'
 * types: `readdir`'s `recursive` looks up each of the thousands of files in the assets folder on its own, which cost
 * more than everything else this check does. Symbolic links are not followed, as `recursive` does not.
 */
function htmlFiles(dir: string, prefix: string, into: string[], skipped: string | undefined): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      const folder = `${prefix}${entry.name}/`;
      if (folder !== skipped) htmlFiles(path.join(dir, entry.name), folder, into, skipped);
    } else if (entry.name.endsWith(".html")) into.push(`${prefix}${entry.name}`);
  }
  return into;
}
