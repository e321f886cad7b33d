/*
 * The browser-side module graph of a built Astro site: starting from the URLs an `<astro-island>` loads, every file
 * each JS chunk references (static and dynamic imports, Vite's preload map, asset URLs), followed transitively.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";

/** One URL a chunk references, and the output file it points at. */
export interface ChunkReference {
  /** Output-relative posix path of the chunk that holds the URL. */
  readonly from: string;
  /** The URL as written in the chunk. */
  readonly url: string;
  /** Output-relative posix path the URL resolves to. */
  readonly file: string;
}

/** The `component-url` and `renderer-url` of every `<astro-island>` in one HTML document. */
export function islandUrls(html: string): string[] {
  const urls = new Set<string>();
  for (const [tag] of html.matchAll(/<astro-island\b[^>]*>/g)) {
    for (const [, url] of tag.matchAll(/\s(?:component|renderer)-url="([^"]+)"/g)) if (url) urls.add(url);
  }
  return [...urls];
}

// Quoted strings only: an absolute `/_astro/…` URL, a relative `./x.js`, or Vite's base-relative preload entries.
const ABSOLUTE = /["'`](\/_astro\/[^"'`\s?#]+)/g;
const RELATIVE = /["'`](\.\.?\/[^"'`\s?#]+\.m?js)["'`]/g;
const PRELOAD = /["'`](_astro\/[^"'`\s?#]+)["'`]/g;

/** Every reference of `entries` (absolute `/…` URLs under the site root) and of the chunks they reach. */
export async function clientChunkReferences(
  outDir: string,
  entries: readonly string[],
): Promise<ChunkReference[]> {
  const references: ChunkReference[] = [];
  const queue = entries.map((url) => url.replace(/^\//, ""));
  const seen = new Set<string>();
  while (queue.length > 0) {
    const chunk = queue.shift() as string;
    if (seen.has(chunk)) continue;
    seen.add(chunk);
    const code = await readFile(path.join(outDir, chunk), "utf8").catch(() => undefined);
    if (code === undefined) continue;
    const found: ChunkReference[] = [];
    for (const [, url] of code.matchAll(ABSOLUTE))
      if (url) found.push({ from: chunk, url, file: url.slice(1) });
    for (const [, url] of code.matchAll(PRELOAD)) if (url) found.push({ from: chunk, url, file: url });
    for (const [, url] of code.matchAll(RELATIVE)) {
      if (url) found.push({ from: chunk, url, file: path.posix.join(path.posix.dirname(chunk), url) });
    }
    references.push(...found);
    for (const reference of found) if (/\.m?js$/.test(reference.file)) queue.push(reference.file);
  }
  return references;
}
