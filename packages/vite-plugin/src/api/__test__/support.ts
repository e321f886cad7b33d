/**
 * Test-only support for the MaxAPI client tests: production code never imports this module, and the package
 * build excludes every `__test__` folder so it never reaches `dist/`.
 */
import { afterAll, beforeAll, beforeEach, expect } from "vitest";
import { type Emulator, startEmulator } from "../../../../maxapi-emulator/src/index.js";
import { GrokImageError } from "../../errors.js";
import type { Generation } from "../../types.js";
import {
  createMaxApiClient,
  type MaxApiClient,
  type MaxApiClientOptions,
  type RetryInfo,
} from "../maxapi-client.js";

/** A lite, one-image generation of `prompt`, with any field replaced by `overrides`. */
export const generation = (prompt: string, overrides: Partial<Generation> = {}): Generation => ({
  model: "grok-imagine/text-to-image-lite",
  tier: "lite",
  prompt,
  n: 1,
  ratio: null,
  resolution: null,
  v: null,
  ...overrides,
});

/** Resolves with the `GrokImageError` that `promise` rejects with; fails the test if it fulfils instead. */
export const rejection = (promise: Promise<unknown>): Promise<GrokImageError> =>
  promise.then(
    () => expect.fail("expected a rejection"),
    (error: unknown) => {
      expect(GrokImageError.isInstance(error)).toBe(true);
      return error as GrokImageError;
    },
  );

export interface EmulatorClientSetup {
  /** The only API key the emulator accepts; the client sends it. */
  key: string;
  /** Simulated generation time of every task. */
  latencyMs: number;
  /**
   * Client options on top of the emulator's key and URL. Retry delays default to 5–20 ms so that retrying
   * tests stay quick.
   */
  clientOptions?: Omit<Partial<MaxApiClientOptions>, "apiKey" | "baseUrl">;
  /** Whether to `reset()` the emulator and empty `retries` before each test (default true). */
  resetBeforeEach?: boolean;
}

export interface EmulatorClient {
  readonly emu: Emulator;
  readonly client: MaxApiClient;
  /** Every retry the client reported (also passed on to `clientOptions.onRetry`). */
  readonly retries: RetryInfo[];
}

/**
 * Registers vitest hooks that start one emulator and one client for the enclosing file or `describe`, close
 * both afterwards, and (by default) reset the emulator and the recorded retries before each test. Read `emu`
 * and `client` inside hooks and tests only: they exist once `beforeAll` has run.
 */
export function useEmulatorClient(setup: EmulatorClientSetup): EmulatorClient {
  let emu: Emulator | undefined;
  let client: MaxApiClient | undefined;
  const retries: RetryInfo[] = [];

  beforeAll(async () => {
    emu = await startEmulator({ apiKeys: [setup.key], latencyMs: setup.latencyMs, imageScale: 0.25 });
    client = createMaxApiClient({
      minRetryDelayMs: 5,
      maxRetryDelayMs: 20,
      ...setup.clientOptions,
      apiKey: setup.key,
      baseUrl: emu.url,
      onRetry: (info) => {
        retries.push(info);
        setup.clientOptions?.onRetry?.(info);
      },
    });
  });
  afterAll(async () => {
    await client?.close();
    await emu?.close();
  });
  if (setup.resetBeforeEach ?? true) {
    beforeEach(() => {
      emu?.reset();
      retries.length = 0;
    });
  }

  const started = <T>(value: T | undefined, name: string): T => {
    if (value === undefined) throw new Error(`${name} is read before beforeAll started it`);
    return value;
  };
  return {
    get emu() {
      return started(emu, "the emulator");
    },
    get client() {
      return started(client, "the client");
    },
    retries,
  };
}
