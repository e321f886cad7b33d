import { defineConfig } from "vite";
import { grokImage } from "vite-plugin-grok-image";

// The key and API origin come from MAXAPI_KEY and MAXAPI_BASE_URL (or a .env file); see scripts/demo.ts for a
// build against the local emulator.
export default defineConfig({
  plugins: [grokImage({ tier: "lite", format: "webp", quality: 80 })],
});
