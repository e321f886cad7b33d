import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

/** An image tag of built HTML that still carries a `grok:` directive or one of Astro's unresolved placeholders. */
export interface UnresolvedTag {
  /** The HTML file, relative to the output directory. */
  readonly page: string;
  /** The tag, shortened. */
  readonly tag: string;
}

/*
 * Three ways an image can escape resolution: a `grok:` URL written where nothing rewrites it (raw `<img>` in
 * Markdown, a string passed to `<img src>`), the Markdown specifier of a directive (`@grok-image/markdown/...`),
 * and Astro's `__ASTRO_IMAGE_` placeholder of a Markdown image it found no import for. Only attribute values count,
 * so a page that merely talks about `grok:` directives in its text is not flagged.
 */
const UNRESOLVED = /<[a-z][^>]*?(?:__ASTRO_IMAGE_=|=\s*["'](?:grok:|@grok-image\/markdown\/))[^>]*>/gi;
const MAX_TAG_LENGTH = 160;

function shorten(tag: string): string {
  return tag.length > MAX_TAG_LENGTH ? `${tag.slice(0, MAX_TAG_LENGTH - 1)}…` : tag;
}

/** Every unresolved image tag in the `.html` files under `outDir`. */
export async function findUnresolvedHtml(outDir: string): Promise<UnresolvedTag[]> {
  const files = (await readdir(outDir, { recursive: true })).filter((file) => file.endsWith(".html")).sort();
  const found: UnresolvedTag[] = [];
  for (const file of files) {
    const html = await readFile(path.join(outDir, file), "utf8");
    for (const [tag] of html.matchAll(UNRESOLVED)) {
      found.push({ page: file.split(path.sep).join("/"), tag: shorten(tag) });
    }
  }
  return found;
}
