import { fileURLToPath } from "node:url";
import type { AstroIntegration } from "astro";
import type { GrokImageOptions } from "vite-plugin-grok-image";
import { grokImage as grokImageVite, hideApiKey } from "vite-plugin-grok-image";
import { findUnresolvedHtml } from "./build/find-unresolved-html.js";
import { directiveFieldError, unresolvedHtmlError } from "./build/unresolved-errors.js";
import { findDirectiveFieldsIn } from "./content/find-directive-fields.js";
import { wrapImageService } from "./image-service/wrap-image-service.js";
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
 * The grok-image dev client (a virtual module of the Vite plugin): in `astro dev` every page gets it, because the
 * `grok:` modules that could import it run on the server.
 */
const DEV_CLIENT = "virtual:grok-image/dev-client";
/** The workbench the Vite plugin serves in dev (SPEC section 11). */
const WORKBENCH_PATH = "/__grok-image/";
/** The toolbar app's icon: a picture frame with a spark. */
const TOOLBAR_ICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round"><rect x="3" y="5" width="18" height="14" rx="2"/><path d="m3 16 5-5 4 4 3-3 6 6"/><path d="M16.5 7.5v3M15 9h3"/></svg>';

/** Where `astro build` keeps the content layer's data store (Astro's `getDataStoreFile` outside dev). */
const DATA_STORE_FILE = "data-store.json";

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
export function grokImage(options: GrokImageOptions = {}): AstroIntegration & { options: GrokImageOptions } {
  let cacheDir: URL | undefined;
  /** Astro's `build.assets`: the output folder of hashed files, where no page is. */
  let assetsDir: string | undefined;
  // Every file Astro encodes from a grok image keeps the XMP marking, unless `provenance: false`.
  const marking = options.provenance === false ? undefined : wrapImageService();
  return {
    name: INTEGRATION_NAME,
    // Read by the `grok-image` CLI from astro.config.*, so `grok-image generate` uses the same options as the build.
    // The key in them reads "[redacted]" in any dump of the config; the CLI and the plugin read it back.
    options: hideApiKey(options),
    hooks: {
      "astro:config:setup": ({ config, command, updateConfig, logger, injectScript, addDevToolbarApp }) => {
        addMarkdownPlugins(config.markdown.processor, logger);
        if (command === "dev") {
          // Swaps a generating image in place when it is done, in every page (<Image>, <Picture>, Markdown).
          injectScript("page", `import ${JSON.stringify(DEV_CLIENT)};`);
          addDevToolbarApp({
            id: INTEGRATION_NAME,
            name: "grok-image",
            icon: TOOLBAR_ICON,
            entrypoint: fileURLToPath(new URL("./toolbar/workbench-app.js", import.meta.url)),
          });
        }
        if (marking) updateConfig(marking.setup(config));
        updateConfig({
          vite: {
            plugins: [
              markdownResolver(),
              // "metadata": each image is Astro's own import of the variant file (an `ImageMetadata` with the
              // hidden `fsPath`), so Astro's optimisation, `<Picture>` and `getImage()` treat it as a local image.
              grokImageVite(options, {
                imageImport: "metadata",
                markdownRoots: [fileURLToPath(config.srcDir)],
                logger: logger.fork("grok-image"),
                host: "astro",
              }),
            ],
          },
        });
      },
      // Said with Astro's own banner, as Vite's printUrls says it in plain Vite.
      "astro:server:start": ({ address, logger }) => {
        const host = ["::", "0.0.0.0", "::1", "127.0.0.1"].includes(address.address)
          ? "localhost"
          : address.family === "IPv6"
            ? `[${address.address}]`
            : address.address;
        logger.fork("grok-image").info(`workbench: http://${host}:${address.port}${WORKBENCH_PATH}`);
      },
      "astro:config:done": ({ config, injectTypes, logger }) => {
        cacheDir = config.cacheDir;
        assetsDir = config.build.assets;
        marking?.check(config, logger.fork("grok-image"));
        injectTypes({ filename: "types.d.ts", content: CLIENT_TYPES });
      },
      // The content layer has synced by now and no page has rendered: a `grok:` value in an `image()` field fails
      // here, naming the entry, instead of as Astro's MissingImageDimension on whichever page renders it first.
      "astro:build:start": async () => {
        if (!cacheDir) return;
        const fields = await findDirectiveFieldsIn(new URL(DATA_STORE_FILE, cacheDir));
        if (fields.length > 0) throw directiveFieldError(fields);
      },
      // The last guard: an image left unresolved anywhere must fail the build rather than ship as a broken <img>.
      "astro:build:done": async ({ dir }) => {
        const tags = await findUnresolvedHtml(fileURLToPath(dir), assetsDir);
        if (tags.length > 0) throw unresolvedHtmlError(dir, tags);
      },
    },
  };
}
