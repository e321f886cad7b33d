import { type FSWatcher, watch } from "node:fs";

/** Changes that arrive together (a temp file renamed over the manifest) are one change. */
const SETTLE_MS = 50;

/**
 * Calls `onChange` when the cache's `manifest.json` changes: another process (`grok-image generate`, a second dev
 * server, a build) committed an entry. Watched here rather than by Vite's watcher, which the plugin tells to ignore
 * the cache so its own writes never look like source edits. Returns a function that stops watching.
 */
export function watchManifest(cacheDir: string, onChange: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  try {
    // The folder, not the file: the manifest is replaced by a rename, which a watch on the old file never sees.
    watcher = watch(cacheDir, { persistent: false }, (_event, name) => {
      if (name !== null && name !== "manifest.json") return;
      clearTimeout(timer);
      timer = setTimeout(onChange, SETTLE_MS);
    });
    watcher.on("error", () => watcher?.close());
  } catch {
    // No cache folder (nothing was ever generated) or no watcher support: the dev loop still swaps its own work.
  }
  return () => {
    clearTimeout(timer);
    watcher?.close();
  };
}
