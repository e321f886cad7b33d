import type { Emulator, EmulatorOptions } from "maxapi-emulator";
import { startEmulator } from "maxapi-emulator";

const ENV_KEYS = ["MAXAPI_BASE_URL", "MAXAPI_KEY", "GROK_IMAGE_MODE", "ASTRO_TELEMETRY_DISABLED"] as const;

export interface AstroEmulator {
  readonly emulator: Emulator;
  /** Every request the API and its CDN received so far. */
  requests(): number;
  /** Closes the emulator and restores the environment. */
  close(): Promise<void>;
}

/**
 * A real emulator with small images and short tasks, and the environment an Astro build reads its options from
 * (Astro loads `astro.config.mjs` in this process, so the integration sees `process.env`).
 */
export async function startAstroEmulator(options: EmulatorOptions = {}): Promise<AstroEmulator> {
  const emulator = await startEmulator({ imageScale: 0.5, latencyMs: 30, ...options });
  const saved = Object.fromEntries(ENV_KEYS.map((key) => [key, process.env[key]]));
  process.env.MAXAPI_BASE_URL = emulator.url;
  process.env.MAXAPI_KEY = "test-key";
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
