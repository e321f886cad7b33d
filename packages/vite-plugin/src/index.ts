/**
 * Public surface of vite-plugin-grok-image: the Vite plugin factory, the error class and its guard, and types.
 * The core (directive parser, MaxAPI client, cache, optimizer, engine) stays internal on purpose: it is reached
 * through the plugin, the Astro integration and the `grok-image` CLI, so it can change without a major release.
 */
export type { BatchSummary, EngineEvent } from "./engine/engine-types.js";
export { formatError, GrokImageError, type GrokImageErrorCode, isGrokImageError } from "./errors.js";
/** For hosts that keep the user's options where tools can read them (the Astro integration): the key reads "[redacted]". */
export { hideApiKey } from "./options/api-key.js";
export type * from "./types.js";
export {
  type GrokImageInternalOptions,
  type GrokImagePluginApi,
  grokImage,
  grokImage as default,
  type HostLogger,
} from "./vite/plugin.js";
