// @ts-check
import mdx from "@astrojs/mdx";
import { defineConfig } from "astro/config";
import grokImage from "astro-grok-image";

// Options come from the environment the test sets: MAXAPI_BASE_URL, MAXAPI_KEY, GROK_IMAGE_MODE.
export default defineConfig({
  integrations: [grokImage({ concurrency: 4 }), mdx()],
});
