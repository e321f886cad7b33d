import { fileURLToPath } from "node:url";
import { formatError, GrokImageError } from "vite-plugin-grok-image";
import type { DirectiveField } from "../content/find-directive-fields.js";
import type { UnresolvedTag } from "./find-unresolved-html.js";

/*
 * Astro prints an integration's error by its message (and a stack into the integration, which tells a user
 * nothing), so the message carries the whole `formatError` text: what, where, and the hint.
 */
function withFullMessage(error: GrokImageError): GrokImageError {
  error.message = formatError(error);
  error.stack = `${error.name}: ${error.message}`;
  return error;
}

/** The error for collection entries whose `image()` field holds a `grok:` directive. */
export function directiveFieldError(fields: readonly DirectiveField[]): GrokImageError {
  const list = fields.map((f) => `  ${f.entry} → ${f.field}: "${f.directive}"`).join("\n");
  const [first] = fields;
  return withFullMessage(
    new GrokImageError(
      "GROK_UNRESOLVED_IMAGE",
      `A content collection's \`image()\` cannot load a \`grok:\` directive: Astro reads it as a remote URL with no size, so the image would never be generated or optimized.\n${list}`,
      {
        ...(first ? { directive: first.directive, importer: first.entry } : {}),
        hint: "In src/content.config.ts, wrap the field's image() with grokImageSchema from \"astro-grok-image/content\": schema: ({ image }) => z.object({ cover: grokImageSchema(image) }). Or import the directive in the page that renders the entry, or write it as a Markdown image in the entry's body.",
      },
    ),
  );
}

/** The error for built pages that still hold an unresolved `grok:` image. */
export function unresolvedHtmlError(outDir: URL, tags: readonly UnresolvedTag[]): GrokImageError {
  const list = tags.map((t) => `  ${t.page}: ${t.kind === "text" ? `text "${t.tag}"` : t.tag}`).join("\n");
  const hints = [
    'Only `import x from "grok:..."`, Markdown `![alt](grok:...)` images and grokImageSchema fields are resolved. Replace a raw <img src="grok:..."> (in HTML or Markdown) with one of those.',
  ];
  if (tags.some((t) => t.kind === "text")) {
    hints.push(
      "Markdown image syntax shown as text was not read as an image: keep the directive on one line with balanced parentheses, or wrap it in <...> (`![alt](<grok:a misty forest>)`); to show the syntax itself, put it in a code span.",
    );
  }
  return withFullMessage(
    new GrokImageError(
      "GROK_UNRESOLVED_IMAGE",
      `${tags.length} image${tags.length === 1 ? "" : "s"} in the build output (${fileURLToPath(outDir)}) still point${tags.length === 1 ? "s" : ""} at a \`grok:\` directive instead of a generated file, and would be broken on the site:\n${list}`,
      { hint: hints.join(" ") },
    ),
  );
}
