import type { Emulator, EmulatorOptions } from "maxapi-emulator";
import { startTestEmulator, TEST_API_KEY } from "./with-emulator.js";

const ENV_KEYS = ["MAXAPI_BASE_URL", "MAXAPI_KEY", "GROK_IMAGE_MODE", "ASTRO_TELEMETRY_DISABLED"] as const;

export interface AstroEmulator {
  readonly emulator: Emulator;
  /** Every request the API and its CDN received so far. */
  requests(): number;
  /** Closes the emulator and restores the environment. */
  close(): Promise<void>;
}

/**
 * A test emulator, and the environment an Astro build reads its options from: Astro loads `astro.config.mjs` in
 * this process, so the integration sees `process.env` (and a child `astro` process inherits it, see `astroEnv`).
 */
export async function startAstroEmulator(options: EmulatorOptions = {}): Promise<AstroEmulator> {
  const emulator = await startTestEmulator({ imageScale: 0.5, ...options });
  const saved = Object.fromEntries(ENV_KEYS.map((key) => [key, process.env[key]]));
  process.env.MAXAPI_BASE_URL = emulator.url;
  process.env.MAXAPI_KEY = TEST_API_KEY;
  process.env.GROK_IMAGE_MODE = "generate";
  process.env.ASTRO_TELEMETRY_DISABLED = "1";
  return {
    emulator,
    requests: () => emulator.counters.submits + emulator.counters.queries + emulator.counters.downloads,
    async close() {
      await emulator.close();
      for (const key of ENV_KEYS) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    },
  };
}
