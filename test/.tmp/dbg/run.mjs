import { startEmulator } from "maxapi-emulator";
import { build } from "astro";
const e = await startEmulator({ imageScale: 0.5, latencyMs: 30 });
process.env.MAXAPI_BASE_URL = e.url; process.env.MAXAPI_KEY = "k"; process.env.GROK_IMAGE_MODE = "generate"; process.env.ASTRO_TELEMETRY_DISABLED = "1";
await build({ root: process.cwd() });
console.log(e.counters.submitsByPrompt);
await e.close();
