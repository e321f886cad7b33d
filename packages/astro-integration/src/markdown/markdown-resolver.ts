import path from "node:path";
import type { ViteUserConfig } from "astro";
import { fromMarkdownSpecifier } from "./markdown-specifier.js";

/** Vite's `Plugin`, taken from Astro's config type so this package needs no dependency on `vite` of its own. */
type VitePluginOption = NonNullable<ViteUserConfig["plugins"]>[number];
type VitePlugin = Extract<VitePluginOption, { name: string }>;

/**
 * The file that wrote the image. A collection entry's body images are imported from `.astro/content-assets.mjs`
 * with the entry's root-relative path in an `importer` query parameter; errors should name the entry, not that file.
 */
function entryFile(id: string, importer: string | undefined, root: string): string | undefined {
  const query = id.split("?")[1];
  const entry = query === undefined ? null : new URLSearchParams(query).get("importer");
  return entry ? path.resolve(root, entry) : importer;
}

/**
 * Resolves the specifiers the Markdown plugins write back to their `grok:` directive, which the grok-image Vite
 * plugin then resolves and loads like any `grok:` import. `enforce: "pre"` so it runs before Astro's Markdown
 * resolver retries the id as a relative path, and before Vite's asset handling sees the specifier's extension.
 */
export function markdownResolver(): VitePlugin {
  let root = process.cwd();
  return {
    name: "astro-grok-image:markdown",
    enforce: "pre",
    configResolved(config) {
      root = config.root;
    },
    resolveId: {
      filter: { id: /^@grok-image\/markdown\// },
      async handler(id, importer, options) {
        const directive = fromMarkdownSpecifier(id);
        if (directive === undefined) return null;
        return this.resolve(directive, entryFile(id, importer, root), { ...options, skipSelf: true });
      },
    },
  };
}
