import type { ImageCache } from "../cache/image-cache.js";
import type { Generation, ManifestEntry, Mode, ResolvedOptions } from "../types.js";
import type {
  SharedCache,
  SharedCacheTuning,
  SharedEvent,
  SharedGenerateContext,
  SharedOutcome,
} from "./shared-cache.js";

/*
 * Where the engine meets the shared cache. This module is all the engine imports statically, and it imports
 * nothing at run time: the shared cache, its S3 client and aws4fetch are loaded the first time a build has a
 * local miss (or a missing original) with a `remoteCache` configured. A build whose directives all hit the local
 * cache, or one without a shared cache, never loads them (SPEC section 9).
 */

export type { SharedCacheTuning } from "./shared-cache.js";

export type SharedCacheLoader = () => Promise<SharedCache>;

export interface SharedCacheHandle {
  readonly load: SharedCacheLoader;
  close(): Promise<void>;
}

/** The shared cache of `options`, opened on first use; undefined when none is configured. */
export function sharedCacheHandle(
  options: ResolvedOptions,
  emit: (event: SharedEvent) => void,
  tuning?: SharedCacheTuning,
): SharedCacheHandle | undefined {
  if (!options.remoteCache) return undefined;
  let opened: Promise<SharedCache> | undefined;
  return {
    load: () => {
      opened ??= import("./shared-cache.js").then((m) => m.SharedCache.open(options, emit, tuning));
      return opened;
    },
    async close() {
      const closing = opened;
      opened = undefined;
      await closing?.then((shared) => shared.close()).catch(() => {});
    },
  };
}

/**
 * Read-through before a batch is planned: local misses among `keys` that the shared cache holds are brought in, so
 * they are hits (in every mode: a frozen build reads the shared cache too). A store that cannot be read fails the
 * batch, except in placeholder mode, which pays nothing anyway and says so.
 */
export async function readThrough(
  shared: SharedCacheHandle | undefined,
  cache: ImageCache,
  keys: Iterable<string>,
  mode: Mode,
  emit: (event: SharedEvent) => void,
  signal?: AbortSignal,
): Promise<void> {
  if (!shared) return;
  const misses = [...new Set(keys)].filter((key) => cache.lookup(key) === undefined);
  if (misses.length === 0) return;
  try {
    await (await shared.load()).readThrough(cache, misses, signal);
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (
      mode !== "placeholder" ||
      (code !== "GROK_REMOTE_CACHE_UNAVAILABLE" && code !== "GROK_REMOTE_CACHE_AUTH")
    ) {
      throw error;
    }
    emit({ type: "warn", message: `${(error as Error).message}\nMisses are shown as placeholders.` });
  }
}

/** Puts back the missing or damaged originals of a local entry from the shared cache; false without one. */
export async function restoreFromShared(
  shared: SharedCacheHandle | undefined,
  cache: ImageCache,
  key: string,
  entry: ManifestEntry,
  signal?: AbortSignal,
): Promise<boolean> {
  if (!shared) return false;
  return (await shared.load()).restoreOriginals(cache, key, entry, signal);
}

/** Runs one generation through the shared cache's claim when one is configured, else as it is. */
export async function withSharedCache<
  C extends SharedGenerateContext & { readonly shared?: SharedCacheHandle | undefined },
>(
  key: string,
  generation: Generation,
  ctx: C,
  local: (ctx: C) => Promise<SharedOutcome>,
): Promise<SharedOutcome> {
  if (!ctx.shared) return local(ctx);
  return (await ctx.shared.load()).generate(key, generation, ctx, local);
}
