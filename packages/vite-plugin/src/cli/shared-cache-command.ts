import type { ImageCache } from "../cache/image-cache.js";
import { formatError, GrokImageError } from "../errors.js";
import type { SharedCache, SharedEvent } from "../storage/shared-cache.js";
import type { ResolvedOptions } from "../types.js";
import type { CliIO } from "./cli-io.js";
import { type ProjectArgs, resolveCliOptions } from "./load-project.js";

/** What `push` and `pull` share: the options, the shared cache they name, and its warnings on stderr. */
export interface SharedCacheSession {
  readonly options: ResolvedOptions;
  readonly shared: SharedCache;
  /** Warnings the shared cache gave (damaged objects), already printed. */
  readonly warnings: string[];
}

/** Resolves the options as a build does and opens the shared cache they configure; GROK_BAD_OPTION without one. */
export async function openSharedCacheSession(args: ProjectArgs, io: CliIO): Promise<SharedCacheSession> {
  const options = await resolveCliOptions(args, io);
  if (!options.remoteCache) {
    throw new GrokImageError(
      "GROK_BAD_OPTION",
      "No shared cache is configured, so there is nothing to move.",
      {
        hint: "Set GROK_IMAGE_REMOTE_CACHE=s3://bucket/prefix (with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or the plugin's remoteCache option.",
      },
    );
  }
  const warnings: string[] = [];
  const onEvent = (event: SharedEvent) => {
    if (event.type !== "warn") return;
    warnings.push(event.message);
    io.stderr.write(`${event.message}\n`);
  };
  const { SharedCache } = await import("../storage/shared-cache.js");
  return { options, shared: await SharedCache.open(options, onEvent), warnings };
}

/**
 * `read` on the shared cache `options` configure (which must be set), closed after: what `scan` and `verify` ask of
 * the store without bringing anything in. A store that cannot be read gives why, for the command to say, rather than
 * failing it.
 */
export async function askSharedCache<T>(
  options: ResolvedOptions,
  read: (shared: SharedCache) => Promise<T>,
): Promise<{ value: T } | { unreadable: string }> {
  const { SharedCache } = await import("../storage/shared-cache.js");
  const shared = await SharedCache.open(options, () => {});
  try {
    return { value: await read(shared) };
  } catch (error) {
    return {
      unreadable: GrokImageError.isInstance(error) ? `[${error.code}] ${formatError(error)}` : String(error),
    };
  } finally {
    await shared.close();
  }
}

/** Runs `work` over `items`, `concurrency` at a time. */
export async function eachLimited<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/** Names under a store prefix, as a set. */
export async function listNames(
  shared: SharedCache,
  prefix: string,
  signal?: AbortSignal,
): Promise<Set<string>> {
  const names = new Set<string>();
  for await (const object of shared.store.list(prefix, { signal })) names.add(object.name);
  return names;
}

export type { ImageCache };
