/** The `.grok-images/` cache. Internal to the package: the engine and the CLI use it, users never do. */
export { type ImageCache, type OpenCacheOptions, openCache } from "./image-cache.js";
export type { PendingRecord } from "./pending-journal.js";
export type { VariantMeta } from "./variant-store.js";
export type { VerifyProblem, VerifyReport } from "./verify-cache.js";
