import path from "node:path";
import { inspect } from "node:util";
import { isTier, TIER_NAMES } from "../directive/models.js";
import { OUTPUT_FORMATS, toOutputFormat } from "../directive/parse-directive.js";
import { GrokImageError, redact } from "../errors.js";
import type { GrokImageOptions, Mode, ResolvedOptions } from "../types.js";
import { apiKeyProblem, revealApiKey } from "./api-key.js";
import {
  badOption,
  checkBoolean,
  checkHttpUrl,
  resolveBaseUrl,
  resolveMaxCost,
  type Source,
  show,
} from "./check-option.js";
import { resolveConcurrency } from "./concurrency-option.js";
import { REMOTE_CACHE_ENV, resolveRemoteCache } from "./remote-cache-option.js";
import { resolvePlaceholder, resolveStyles } from "./style-options.js";

/** Option defaults that do not depend on the environment (SPEC section 3). */
export const DEFAULTS = Object.freeze({
  baseUrl: "https://api.maxapi.io",
  tier: "lite",
  cacheDir: ".grok-images",
  concurrency: "auto",
  timeout: 300,
  format: "webp",
  quality: 80,
  placeholder: false,
  provenance: true,
} as const satisfies Required<
  Pick<
    GrokImageOptions,
    | "baseUrl"
    | "tier"
    | "cacheDir"
    | "concurrency"
    | "timeout"
    | "format"
    | "quality"
    | "placeholder"
    | "provenance"
  >
>);

const MODES = ["generate", "frozen", "placeholder"] as const satisfies readonly Mode[];

/** Which option each environment variable feeds. An explicit option always wins over its variable. */
const ENV_VARS = {
  apiKey: "MAXAPI_KEY",
  baseUrl: "MAXAPI_BASE_URL",
  cacheDir: "GROK_IMAGE_CACHE_DIR",
  mode: "GROK_IMAGE_MODE",
  maxCost: "GROK_IMAGE_MAX_COST",
  remoteCache: REMOTE_CACHE_ENV,
} as const satisfies Partial<Record<keyof GrokImageOptions, string>>;

const OPTION_NAMES = [
  "apiKey",
  "baseUrl",
  "tier",
  "cacheDir",
  "mode",
  "concurrency",
  "timeout",
  "maxCost",
  "format",
  "quality",
  "placeholder",
  "provenance",
  "callBackUrl",
  "remoteCache",
  "styles",
  "style",
] as const satisfies readonly (keyof GrokImageOptions)[];

export interface ResolveContext {
  /** The project root; `cacheDir` is resolved against it. */
  readonly root: string;
  /** @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** `serve` (a dev server) falls back to `placeholder` mode when no API key is set. */
  readonly command: "build" | "serve" | "cli";
  /**
   * Receives the one warning worth printing about the resolved options (today: the dev fallback to
   * `placeholder` mode). Pass the host logger's `warn`.
   */
  readonly onWarning?: (message: string) => void;
}

/** Reads an env var; empty or blank counts as unset, as shells and CI systems set them that way. */
function readEnv(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function isTruthyEnv(value: string | undefined): boolean {
  return value !== undefined && !["0", "false", "no", "off"].includes(value.toLowerCase());
}

function pick<T>(user: T | undefined, env: NodeJS.ProcessEnv, option: string, envName?: string) {
  if (user !== undefined) return { value: user as unknown, source: { option } satisfies Source };
  const fromEnv = envName ? readEnv(env, envName) : undefined;
  return { value: fromEnv as unknown, source: { option, env: fromEnv === undefined ? undefined : envName } };
}

function resolveApiKey(user: unknown, env: NodeJS.ProcessEnv): string | undefined {
  if (user !== undefined && typeof user !== "string") {
    // The value is never shown: a misplaced secret is still a secret.
    throw badOption(
      { option: "apiKey" },
      `expected a string, got ${user === null ? "null" : typeof user} (value not shown)`,
    );
  }
  const fromOption = user?.trim();
  const key = fromOption || readEnv(env, ENV_VARS.apiKey);
  const problem = key === undefined ? undefined : apiKeyProblem(key);
  if (problem !== undefined) {
    // Checked here, before anything is sent: HTTP refuses such a header, and that refusal would otherwise read
    // like a submit that failed on the wire after it may have been charged.
    throw badOption(
      fromOption ? { option: "apiKey" } : { option: "apiKey", env: ENV_VARS.apiKey },
      `${problem}; the key is not shown, and nothing was sent to MaxAPI`,
      "Copy the key again as one line with nothing around it (no quotes, spaces or line breaks); in a .env file, " +
        `write ${ENV_VARS.apiKey}=<key> on a single line.`,
    );
  }
  return key;
}

/**
 * Resolves user options once: explicit option, else its environment variable, else the default; validates
 * everything and returns a frozen object. `JSON.stringify` and `util.inspect` of the result hide `apiKey`.
 * Throws `GrokImageError("GROK_BAD_OPTION")` naming the option (and env var), the value and what is accepted.
 */
export function resolveOptions(user: GrokImageOptions | undefined, context: ResolveContext): ResolvedOptions {
  const env = context.env ?? process.env;
  const options: unknown = user ?? {};
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw badOption({ option: "(options)" }, `expected an object, got ${show(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!(OPTION_NAMES as readonly string[]).includes(key)) {
      throw badOption({ option: key }, `unknown option. Accepted options: ${OPTION_NAMES.join(", ")}`);
    }
  }
  const u = options as GrokImageOptions;
  const apiKey = resolveApiKey(revealApiKey(u), env);
  try {
    return resolveRest(u, env, apiKey, context);
  } catch (error) {
    throw apiKey && GrokImageError.isInstance(error) ? redactKey(error, apiKey) : error;
  }
}

/** A key pasted into the wrong option would be echoed as a "bad value": take it out again. */
function redactKey(error: GrokImageError, apiKey: string): GrokImageError {
  if (!error.message.includes(apiKey) && !error.hint?.includes(apiKey)) return error;
  return new GrokImageError(error.code, redact(error.message, apiKey), {
    hint: error.hint === undefined ? undefined : redact(error.hint, apiKey),
  });
}

function resolveRest(
  u: GrokImageOptions,
  env: NodeJS.ProcessEnv,
  apiKey: string | undefined,
  context: ResolveContext,
): ResolvedOptions {
  const root = path.resolve(context.root);

  const baseUrlIn = pick(u.baseUrl, env, "baseUrl", ENV_VARS.baseUrl);
  // Set but blank is not "unset" here, as it is for the other variables: `MAXAPI_BASE_URL=$EMULATOR_URL` with the
  // second variable missing would otherwise send the key, and the bill, to the real API.
  const blankEnv = u.baseUrl === undefined && env[ENV_VARS.baseUrl]?.trim() === "";
  const baseUrl = resolveBaseUrl(
    blankEnv ? "" : (baseUrlIn.value ?? DEFAULTS.baseUrl),
    blankEnv ? { option: "baseUrl", env: ENV_VARS.baseUrl } : baseUrlIn.source,
  );

  const tier = u.tier ?? DEFAULTS.tier;
  if (!isTier(tier)) {
    throw badOption(
      { option: "tier" },
      `${show(tier)} is not accepted. Accepted values: ${TIER_NAMES.join(", ")}`,
    );
  }

  const cacheDirIn = pick(u.cacheDir, env, "cacheDir", ENV_VARS.cacheDir);
  const cacheDirValue = cacheDirIn.value ?? DEFAULTS.cacheDir;
  if (typeof cacheDirValue !== "string" || cacheDirValue.trim() === "") {
    throw badOption(
      cacheDirIn.source,
      `${show(cacheDirValue)} is not accepted. Accepted values: a directory path`,
    );
  }

  const modeIn = pick(u.mode, env, "mode", ENV_VARS.mode);
  let mode = (modeIn.value ?? (isTruthyEnv(readEnv(env, "CI")) ? "frozen" : "generate")) as Mode;
  if (!(MODES as readonly unknown[]).includes(mode)) {
    throw badOption(modeIn.source, `${show(mode)} is not accepted. Accepted values: ${MODES.join(", ")}`);
  }

  const timeout = u.timeout ?? DEFAULTS.timeout;
  if (typeof timeout !== "number" || !Number.isFinite(timeout) || timeout <= 0) {
    throw badOption({ option: "timeout" }, `${show(timeout)} is not accepted. Accepted values: seconds > 0`);
  }

  const maxCostIn = pick(u.maxCost, env, "maxCost", ENV_VARS.maxCost);
  const formatValue = u.format ?? DEFAULTS.format;
  const format = typeof formatValue === "string" ? toOutputFormat(formatValue) : undefined;
  if (!format) {
    throw badOption(
      { option: "format" },
      `${show(formatValue)} is not accepted. Accepted values: ${OUTPUT_FORMATS.join(", ")} (jpg means jpeg)`,
    );
  }
  const quality = u.quality ?? DEFAULTS.quality;
  if (typeof quality !== "number" || !Number.isInteger(quality) || quality < 1 || quality > 100) {
    throw badOption(
      { option: "quality" },
      `${show(quality)} is not accepted. Accepted values: integers 1-100`,
    );
  }
  const concurrency = resolveConcurrency(u.concurrency ?? DEFAULTS.concurrency);
  // A dev server answers whatever a browser asks: unless told otherwise, it spends at most this per start.
  const maxCost =
    resolveMaxCost(maxCostIn.value, maxCostIn.source) ??
    (context.command === "serve" ? DEV_MAX_COST_USD : undefined);
  const placeholder = resolvePlaceholder(u.placeholder ?? DEFAULTS.placeholder);
  const { styles, style } = resolveStyles(u.styles, u.style);
  const provenance = checkBoolean(u.provenance ?? DEFAULTS.provenance, { option: "provenance" });
  const callBackUrl =
    u.callBackUrl === undefined
      ? undefined
      : checkHttpUrl(u.callBackUrl, { option: "callBackUrl" }, "a webhook URL").href;
  const remoteCache = resolveRemoteCache(u.remoteCache, env);

  if (context.command === "serve" && mode === "generate" && apiKey === undefined) {
    mode = "placeholder";
    context.onWarning?.(
      `No MaxAPI key is set (the apiKey option or ${ENV_VARS.apiKey}): the dev server shows placeholder images ` +
        "for directives missing from the cache. Set the key to generate them.",
    );
  }

  const resolved: ResolvedOptions = {
    apiKey,
    baseUrl,
    tier,
    cacheDir: path.resolve(root, cacheDirValue),
    mode,
    concurrency,
    timeoutMs: Math.max(1, Math.round(timeout * 1000)),
    maxCost,
    format,
    quality,
    placeholder,
    provenance,
    callBackUrl,
    remoteCache,
    styles,
    style,
    root,
  };
  return Object.freeze(Object.defineProperties(resolved, redactedViews(resolved)));
}

/** The budget of one dev server start when `maxCost` is not set (SPEC section 11). */
export const DEV_MAX_COST_USD = 1;

/** Non-enumerable views that hide the key when the options are logged or serialized. */
function redactedViews(resolved: ResolvedOptions): PropertyDescriptorMap {
  const redacted = () => ({ ...resolved, apiKey: resolved.apiKey === undefined ? undefined : "[redacted]" });
  return {
    toJSON: { value: redacted, enumerable: false },
    [inspect.custom]: {
      value: (_depth: number, opts: object) => `ResolvedOptions ${inspect(redacted(), opts)}`,
      enumerable: false,
    },
  };
}
