/**
 * Test-only support for the shared cache tests: several "machines" (each a project root with its own local cache
 * and engine) sharing one bucket of a real S3 emulator, and one MaxAPI emulator. Never imported by production code;
 * the package build leaves `__test__` folders out.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Emulator,
  S3_EMULATOR_ACCESS_KEY_ID,
  S3_EMULATOR_SECRET_ACCESS_KEY,
  type S3Emulator,
  startEmulator,
  startS3Emulator,
} from "../../../../maxapi-emulator/src/index.js";
import { parseDirective } from "../../directive/parse-directive.js";
import { createEngine } from "../../engine/create-engine.js";
import type { DirectiveUse, Engine, EngineDeps, EngineEvent } from "../../engine/engine-types.js";
import { resolveOptions } from "../../options/resolve-options.js";
import type { GrokImageOptions, ResolvedOptions } from "../../types.js";

export const API_KEY = "sk-shared-cache-test-0001";
export const BUCKET = "team-cache";
/** Short timings, so a dead machine's claim goes stale in about two seconds. */
export const FAST: NonNullable<EngineDeps["sharedCache"]> = {
  heartbeatMs: 100,
  staleMs: 1500,
  pollMs: 50,
  maxPollMs: 200,
  store: { retries: 1, retryDelayMs: 10, timeoutMs: 5_000 },
};

export interface Services {
  readonly api: Emulator;
  readonly s3: S3Emulator;
  /** The environment every machine reads: the S3 emulator's endpoint and keys. */
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  close(): Promise<void>;
}

export async function startServices(latencyMs = 40): Promise<Services> {
  const [api, s3] = await Promise.all([
    startEmulator({ apiKeys: [API_KEY], latencyMs, imageScale: 0.125 }),
    startS3Emulator({ buckets: [BUCKET] }),
  ]);
  return {
    api,
    s3,
    env: (extra = {}) => ({
      AWS_ACCESS_KEY_ID: S3_EMULATOR_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: S3_EMULATOR_SECRET_ACCESS_KEY,
      AWS_ENDPOINT_URL_S3: s3.url,
      AWS_REGION: "us-east-1",
      GROK_IMAGE_REMOTE_CACHE: `s3://${BUCKET}/site`,
      ...extra,
    }),
    close: async () => {
      await Promise.all([api.close(), s3.close()]);
    },
  };
}

export interface Machine {
  readonly root: string;
  readonly options: ResolvedOptions;
  readonly engine: Engine;
  readonly events: EngineEvent[];
  /** The directives, as a build of this machine parses them. */
  uses(...raws: string[]): DirectiveUse[];
  /** Task lines of one state ("fetched", "waiting", "submitted"...). */
  tasks(state: string): EngineEvent[];
  warnings(): string[];
  close(): Promise<void>;
}

export async function startMachine(
  services: Services,
  overrides: { options?: GrokImageOptions; env?: NodeJS.ProcessEnv; deps?: EngineDeps; root?: string } = {},
): Promise<Machine> {
  const root = overrides.root ?? (await mkdtemp(join(tmpdir(), "grok-shared-")));
  const options = resolveOptions(
    { apiKey: API_KEY, baseUrl: services.api.url, mode: "generate", concurrency: 4, ...overrides.options },
    { root, env: services.env(overrides.env), command: "build" },
  );
  const events: EngineEvent[] = [];
  const engine = createEngine(options, {
    onEvent: (event) => events.push(event),
    client: { poll: { initialDelayMs: 20, maxDelayMs: 50 }, minRetryDelayMs: 5, maxRetryDelayMs: 20 },
    sharedCache: FAST,
    ...overrides.deps,
  });
  return {
    root,
    options,
    engine,
    events,
    uses: (...raws) =>
      raws.map((raw) => ({ directive: parseDirective(raw, { tier: "lite", format: "webp", quality: 80 }) })),
    tasks: (state) => events.filter((e) => e.type === "task" && e.state === state),
    warnings: () => events.flatMap((e) => (e.type === "warn" ? [e.message] : [])),
    close: async () => {
      await engine.close();
      if (!overrides.root) await rm(root, { recursive: true, force: true });
    },
  };
}
