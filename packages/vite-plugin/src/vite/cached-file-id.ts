import path from "node:path";

/**
 * What a `grok:` module imports in a build: a variant file of the cache by its absolute path (`<cacheDir>/variants/
 * <32 hex>.<ext>`, `?no-inline` for plain Vite). The regular expression is the resolveId filter that lets these
 * through to the plugin, and nothing else worth a call (a module a directive was inlined into imports them by a
 * relative path, which the bundler resolves itself).
 */
export const CACHED_FILE = /^(?:[A-Za-z]:)?[\\/].*[\\/]variants[\\/][0-9a-f]{32}\.[a-z]+(?:\?no-inline)?$/;

/**
 * The id of a cache file imported by the plugin's code (a `grok:` module, or a module a cached directive was
 * inlined into), as it stands: it is absolute and exists, so
 * Vite's resolver (which would first try it as a root-relative URL, then with every extension, about ten failed
 * `stat`s each) has nothing to find. A build of thousands of cached images is spared tens of thousands of lookups.
 * Undefined for anything else, which resolves as usual.
 */
export function cachedFileId(source: string, cacheDir: string): string | undefined {
  if (!path.isAbsolute(source) || !CACHED_FILE.test(source)) return undefined;
  const file = source.replace(/\?no-inline$/, "");
  const relative = path.relative(cacheDir, file);
  if (relative.startsWith("..") || path.isAbsolute(relative)) return undefined;
  return source.replaceAll("\\", "/");
}
