/*
 * Astro's Markdown pipelines only turn an image into an optimized import when its URL is "local": not parseable as a
 * URL (`URL.canParse`) and not starting with `/`. `grok:a forest` parses as a URL with the scheme `grok:`, so Astro
 * would leave it as a plain `<img src="grok:...">`. The Markdown plugins rewrite such URLs to a bare specifier that
 * Astro collects as a local image and imports from the Markdown module; `markdownResolver` maps the specifier back.
 *
 * The directive travels base64url-encoded because Astro later finds each image again in the rendered HTML by
 * matching its raw path inside an HTML-escaped attribute: a `&` (as in `?tier=pro&w=640`), a quote, `<` or `%`
 * would be escaped or decoded on the way and never match. base64url has none of those characters.
 *
 * The specifier ends in an image extension because Astro's content layer only imports a body image of a collection
 * entry (into `.astro/content-assets.mjs`, keyed by `<path>?astroContentImageFlag=&importer=<entry>`) when its path
 * ends in one; without it the entry's `<img>` keeps its `__ASTRO_IMAGE_` placeholder. The extension is a label
 * only: the image's real format is that of the variant file the directive module imports.
 */

/** Prefix of the bare specifiers the Markdown plugins write. Scoped-package shaped, so nothing parses it as a URL. */
const MARKDOWN_SPECIFIER_PREFIX = "@grok-image/markdown/";

/** The image extension every specifier ends with (see above); any of Astro's `VALID_INPUT_FORMATS` but `svg`. */
const MARKDOWN_SPECIFIER_EXTENSION = ".webp";

export const DIRECTIVE_PREFIX = "grok:";

/** Whether a Markdown image URL is a `grok:` directive. */
export function isDirectiveUrl(url: string): boolean {
  return url.startsWith(DIRECTIVE_PREFIX);
}

/** The bare specifier that stands for a directive inside Astro's Markdown pipeline. */
export function toMarkdownSpecifier(directive: string): string {
  return (
    MARKDOWN_SPECIFIER_PREFIX +
    Buffer.from(directive, "utf8").toString("base64url") +
    MARKDOWN_SPECIFIER_EXTENSION
  );
}

/**
 * The directive a specifier stands for, or `undefined` when the id is not one of ours. A query (the content layer
 * appends `?astroContentImageFlag=&importer=...`) is ignored, and so is a missing extension: an entry rendered
 * before the extension was added may still sit in Astro's content cache.
 */
export function fromMarkdownSpecifier(id: string): string | undefined {
  if (!id.startsWith(MARKDOWN_SPECIFIER_PREFIX)) return undefined;
  const path = id.split("?")[0] ?? "";
  const bare = path.endsWith(MARKDOWN_SPECIFIER_EXTENSION)
    ? path.slice(0, -MARKDOWN_SPECIFIER_EXTENSION.length)
    : path;
  const encoded = bare.slice(MARKDOWN_SPECIFIER_PREFIX.length);
  if (!/^[\w-]+$/.test(encoded)) return undefined;
  const directive = Buffer.from(encoded, "base64url").toString("utf8");
  return isDirectiveUrl(directive) ? directive : undefined;
}

/**
 * A default `alt` for `![](grok:...)`: the prompt as the directive module's `alt` export would give it
 * (percent-decoded, trimmed, inner whitespace collapsed). Astro requires alt text on optimized images.
 */
/** The alt text an empty Markdown alt gets: the directive's `alt=` when it has one, else its prompt. */
export function defaultAltOf(directive: string): string {
  const query = directive.indexOf("?");
  const alt =
    query === -1
      ? undefined
      : directive
          .slice(query + 1)
          .split("&")
          .find((segment) => segment.trim().startsWith("alt="));
  if (alt === undefined) return promptOf(directive);
  const value = alt.slice(alt.indexOf("=") + 1);
  try {
    return decodeURIComponent(value).trim().replace(/\s+/g, " ");
  } catch {
    return value.trim();
  }
}

export function promptOf(directive: string): string {
  const body = directive.slice(DIRECTIVE_PREFIX.length);
  const query = body.indexOf("?");
  const prompt = query === -1 ? body : body.slice(0, query);
  let decoded = prompt;
  try {
    decoded = decodeURIComponent(prompt);
  } catch {
    // A stray `%` is left as written; the directive parser reports real errors with the file name.
  }
  return decoded.trim().replace(/\s+/g, " ");
}
