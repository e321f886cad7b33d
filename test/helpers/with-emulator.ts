/*
 * A real `maxapi-emulator` on port 0 for end-to-end tests, with settings that keep builds fast: small images
 * (`imageScale`) and a short task latency. Shared by the Vite and Astro suites.
 *
 *   const emulator = await startTestEmulator();
 *   plugins: [grokImage(grokTestOptions(emulator))]
 *   afterAll(() => emulator.close());
 */
import { type Emulator, type EmulatorOptions, startEmulator } from "maxapi-emulator";
import type { GrokImageOptions } from "vite-plugin-grok-image";

/** The Bearer token the test emulator accepts (and the only one). */
export const TEST_API_KEY = "test-key-0123456789";

/** Starts an emulator tuned for tests; any option can be overridden. Close it in `afterAll`. */
export function startTestEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  return startEmulator({ imageScale: 0.25, latencyMs: 30, apiKeys: [TEST_API_KEY], ...options });
}

/**
 * Plugin options pointing at `emulator`, in `generate` mode whatever `CI` says (the suite runs in CI, where the
 * default would be `frozen`), and never reading the developer's real key from the environment.
 */
export function grokTestOptions(emulator: Emulator, overrides: GrokImageOptions = {}): GrokImageOptions {
  return { apiKey: TEST_API_KEY, baseUrl: emulator.url, mode: "generate", concurrency: 4, ...overrides };
}
