import type { EmulatorOptions, RuntimeOptions } from "./types.js";

const DEFAULTS = {
  latencyMs: 300,
  urlTtlMs: 7 * 24 * 60 * 60 * 1000,
  expiredStatus: 410,
  imageScale: 1,
  invalidParameters: "reject",
  cancellable: "pending",
  allowPrivateCallbacks: false,
  privateCallbacks: "reject",
  webhookTimeoutMs: 5000,
  maxTasksInFlight: Number.POSITIVE_INFINITY,
  inFlightRetryAfter: 1,
} as const satisfies EmulatorOptions;

/** Fills defaults and validates, naming the bad option. */
export function resolveOptions(options: EmulatorOptions, base?: RuntimeOptions): RuntimeOptions {
  const merged: RuntimeOptions = {
    ...DEFAULTS,
    apiKeys: undefined,
    seed: "maxapi-emulator",
    ...base,
    ...withoutUndefined(options),
    ...(options.seed !== undefined ? { seed: String(options.seed) } : {}),
  };
  for (const name of ["latencyMs", "urlTtlMs", "webhookTimeoutMs", "inFlightRetryAfter"] as const) {
    if (!(Number.isFinite(merged[name]) && merged[name] >= 0)) {
      throw new TypeError(`maxapi-emulator: option ${name} must be a number >= 0, got ${merged[name]}`);
    }
  }
  const limit = merged.maxTasksInFlight;
  if (!(limit === Number.POSITIVE_INFINITY || (Number.isInteger(limit) && limit >= 1))) {
    throw new TypeError(`maxapi-emulator: option maxTasksInFlight must be an integer >= 1, got ${limit}`);
  }
  if (!(merged.imageScale > 0 && merged.imageScale <= 4)) {
    throw new TypeError(`maxapi-emulator: option imageScale must be in (0, 4], got ${merged.imageScale}`);
  }
  if (merged.apiKeys?.some((key) => typeof key !== "string" || key === "")) {
    throw new TypeError("maxapi-emulator: option apiKeys must hold non-empty strings");
  }
  oneOf("expiredStatus", merged.expiredStatus, [410, 403]);
  oneOf("invalidParameters", merged.invalidParameters, ["reject", "fail"]);
  oneOf("cancellable", merged.cancellable, ["pending", "non-terminal"]);
  oneOf("privateCallbacks", merged.privateCallbacks, ["reject", "skip"]);
  return merged;
}

function oneOf(name: string, value: unknown, allowed: readonly unknown[]): void {
  if (!allowed.includes(value)) {
    throw new TypeError(
      `maxapi-emulator: option ${name} must be one of ${allowed.join(", ")}, got ${String(value)}`,
    );
  }
}

function withoutUndefined(options: EmulatorOptions): Partial<RuntimeOptions> {
  const { port: _p, cdnPort: _c, host: _h, faults: _f, now: _n, seed: _s, ...rest } = options;
  return Object.fromEntries(
    Object.entries(rest).filter(([, v]) => v !== undefined),
  ) as Partial<RuntimeOptions>;
}
