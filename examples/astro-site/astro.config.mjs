// @ts-check
import mdx from "@astrojs/mdx";
import { defineConfig } from "astro/config";
import grokImage from "astro-grok-image";

export default defineConfig({
  site: "https://example.com",
  integrations: [
    // Every option can also come from the environment (MAXAPI_KEY, MAXAPI_BASE_URL, GROK_IMAGE_MODE...).
    grokImage({ tier: "lite" }),
    mdx(),
  ],
});
