import type { AstroIntegration } from "astro";
import type { GrokImageOptions } from "vite-plugin-grok-image";
import { grokImage as grokImageVite } from "vite-plugin-grok-image";
import { addMarkdownPlugins } from "./markdown/add-markdown-plugins.js";
import { markdownResolver } from "./markdown/markdown-resolver.js";

export const INTEGRATION_NAME = "astro-grok-image";

/*
 * Injected into `.astro/types.d.ts` by `astro sync` / `astro check`. It references this package's `client` entry
 * (not `vite-plugin-grok-image/client` directly) because a site depends on `astro-grok-image` only: under a strict
 * node_modules layout (pnpm) the site cannot resolve the Vite plugin, but this package can.
 */
const CLIENT_TYPES = `/// <reference types="${INTEGRATION_NAME}/client" />\n`;

/**
 * The Astro integration: `grok:` imports in components, pages and MDX, and `![alt](grok:...)` images in Markdown
 * and MDX, become optimized, cached images that work with `<Image>`, `<Picture>` and `getImage()`.
 *
 * @param options the same options as the Vite plugin (`vite-plugin-grok-image`), with the same environment variables.
 * @example
 * // astro.config.mjs
 * import { defineConfig } from "astro/config";
 * import grokImage from "astro-grok-image";
 * export default defineConfig({ integrations: [grokImage({ tier: "standard" })] });
 */
export function grokImage(options: GrokImageOptions = {}): AstroIntegration {
  return {
    name: INTEGRATION_NAME,
    hooks: {
      "astro:config:setup": ({ config, updateConfig, logger }) => {
        addMarkdownPlugins(config.markdown.processor, logger);
        updateConfig({
          vite: {
            plugins: [
              markdownResolver(),
              // "metadata": each image is Astro's own import of the variant file (an `ImageMetadata` with the
              // hidden `fsPath`), so Astro's optimisation, `<Picture>` and `getImage()` treat it as a local image.
              grokImageVite(options, { imageImport: "metadata", logger: logger.fork("grok-image") }),
            ],
          },
        });
      },
      "astro:config:done": ({ injectTypes }) => {
        injectTypes({ filename: "types.d.ts", content: CLIENT_TYPES });
      },
    },
  };
}
