/*
 * Astro's Markdown pipelines only turn an image into an optimized import when its URL is "local": not parseable as a
 * URL (`URL.canParse`) and not starting with `/`. `grok:a forest` parses as a URL with the scheme `grok:`, so Astro
 * would leave it as a plain `<img src="grok:...">`. The Markdown plugins rewrite such URLs to a bare specifier that
 * Astro collects as a local image and imports from the Markdown module; `markdownResolver` maps the specifier back.
 *
 * The directive travels base64url-encoded because Astro later finds each image again in the rendered HTML by
 * matching its raw path inside an HTML-escaped attribute: a `&` (as in `?tier=pro&w=640`), a quote, `<` or `%`
 * would be escaped or decoded on the way and never match. base64url has none of those characters.
 */

/** Prefix of the bare specifiers the Markdown plugins write. Scoped-package shaped, so nothing parses it as a URL. */
export const MARKDOWN_SPECIFIER_PREFIX = "@grok-image/markdown/";

const DIRECTIVE_PREFIX = "grok:";

/** Whether a Markdown image URL is a `grok:` directive. */
export function isDirectiveUrl(url: string): boolean {
  return url.startsWith(DIRECTIVE_PREFIX);
}

/** The bare specifier that stands for a directive inside Astro's Markdown pipeline. */
export function toMarkdownSpecifier(directive: string): string {
  return MARKDOWN_SPECIFIER_PREFIX + Buffer.from(directive, "utf8").toString("base64url");
}

/** The directive a specifier stands for, or `undefined` when the id is not one of ours. */
export function fromMarkdownSpecifier(id: string): string | undefined {
  if (!id.startsWith(MARKDOWN_SPECIFIER_PREFIX)) return undefined;
  const encoded = id.slice(MARKDOWN_SPECIFIER_PREFIX.length);
  if (!/^[\w-]+$/.test(encoded)) return undefined;
  const directive = Buffer.from(encoded, "base64url").toString("utf8");
  return isDirectiveUrl(directive) ? directive : undefined;
}

/**
 * A default `alt` for `![](grok:...)`: the prompt as the directive module's `alt` export would give it
 * (percent-decoded, trimmed, inner whitespace collapsed). Astro requires alt text on optimized images.
 */
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
