import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

/** One image reference found in built HTML. */
export interface ImageReference {
  /** The HTML file (relative to the output directory). */
  readonly page: string;
  /** `img` or `source`. */
  readonly tag: string;
  readonly url: string;
  /** The `w` descriptor of a srcset candidate, when there is one. */
  readonly width?: number;
  /** The tag's `id` attribute, when there is one. */
  readonly id?: string;
  /** The tag's `type` attribute (`image/avif` on a `<source>`). */
  readonly type?: string;
}

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return match?.[1]?.replaceAll("&amp;", "&");
}

/** Every `src` and `srcset` candidate of every `<img>` and `<source>` in one HTML document. */
export function imageReferences(html: string, page: string): ImageReference[] {
  const found: ImageReference[] = [];
  for (const [tag, name] of html.matchAll(/<(img|source)\b[^>]*>/g)) {
    if (!name) continue;
    const id = attribute(tag, "id");
    const type = attribute(tag, "type");
    const base = { page, tag: name, ...(id ? { id } : {}), ...(type ? { type } : {}) };
    const src = attribute(tag, "src");
    if (src) found.push({ ...base, url: src });
    for (const candidate of attribute(tag, "srcset")?.split(",") ?? []) {
      const [url, descriptor] = candidate.trim().split(/\s+/);
      if (!url) continue;
      const width = descriptor?.endsWith("w") ? Number(descriptor.slice(0, -1)) : undefined;
      found.push({ ...base, url, ...(width ? { width } : {}) });
    }
  }
  return found;
}

/** HTML files of a build output, relative to it. */
export async function htmlPages(outDir: string): Promise<string[]> {
  const entries = await readdir(outDir, { recursive: true });
  return entries.filter((entry) => entry.endsWith(".html")).sort();
}

/** Image references of every page of a build output. */
export async function builtImageReferences(outDir: string): Promise<ImageReference[]> {
  const pages = await htmlPages(outDir);
  const all = await Promise.all(
    pages.map(async (page) => imageReferences(await readFile(path.join(outDir, page), "utf8"), page)),
  );
  return all.flat();
}
