import type { ViteUserConfig } from "astro";
import { fromMarkdownSpecifier } from "./markdown-specifier.js";

/** Vite's `Plugin`, taken from Astro's config type so this package needs no dependency on `vite` of its own. */
type VitePluginOption = NonNullable<ViteUserConfig["plugins"]>[number];
type VitePlugin = Extract<VitePluginOption, { name: string }>;

/**
 * Resolves the specifiers the Markdown plugins write back to their `grok:` directive, which the grok-image Vite
 * plugin then resolves and loads like any `grok:` import. `enforce: "pre"` so it runs before Astro's Markdown
 * resolver retries the id as a relative path.
 */
export function markdownResolver(): VitePlugin {
  return {
    name: "astro-grok-image:markdown",
    enforce: "pre",
    resolveId: {
      filter: { id: /^@grok-image\/markdown\// },
      async handler(id, importer, options) {
        const directive = fromMarkdownSpecifier(id);
        if (directive === undefined) return null;
        return this.resolve(directive, importer, { ...options, skipSelf: true });
      },
    },
  };
}
