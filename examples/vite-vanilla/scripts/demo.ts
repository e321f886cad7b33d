/*
 * Builds this example against a local MaxAPI emulator: no key, no network, no cost.
 *   node scripts/demo.ts
 * The emulator's images go to their own cache (.grok-images-tmp-demo), so they never mix with real generations
 * in .grok-images.
 */
import { fileURLToPath } from "node:url";
import { startEmulator } from "maxapi-emulator";
import { build } from "vite";

const root = fileURLToPath(new URL("..", import.meta.url));
const emulator = await startEmulator({ latencyMs: 600 });
try {
  process.env.MAXAPI_BASE_URL = emulator.url;
  process.env.MAXAPI_KEY = "demo-key";
  process.env.GROK_IMAGE_CACHE_DIR ??= ".grok-images-tmp-demo";
  // The demo exists to generate: CI=true would otherwise select frozen mode.
  process.env.GROK_IMAGE_MODE ??= "generate";
  await build({ root });
  console.log(
    `Built ${root}dist with the emulator at ${emulator.url} (charged $${emulator.counters.costUsd.toFixed(4)}).`,
  );
} finally {
  await emulator.close();
}
