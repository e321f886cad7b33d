import type { GrokImageOptions } from "../types.js";

/*
 * The API key as an option: what a well-formed key looks like, and how the options a plugin shows to tools
 * (`plugin.api.userOptions`, the Astro integration's `options`) keep it out of every dump of them.
 */

/** What `apiKey` reads as wherever the options are shown. */
export const REDACTED = "[redacted]";

/**
 * Where the real key travels in shown options: a function under a registered symbol, so the key lives only in a
 * closure. No dump reaches it: `JSON.stringify` and structured clones skip symbol keys, `util.inspect` (even with
 * `showHidden` or `getters`, as `DEBUG_*` variables can set for Vite's `--debug`) prints `[Function]`. A spread
 * (`{ ...options }`, how the CLI copies what it reads from a config) copies it along, so `resolveOptions` finds
 * the key again. `Symbol.for`: a config may load a second copy of this package.
 */
export const API_KEY = Symbol.for("grok-image.apiKey");

type ShownOptions = GrokImageOptions & { readonly [API_KEY]?: () => unknown };

/**
 * The options as tools may see them: a copy whose `apiKey`, when given, reads `"[redacted]"`, with the real value
 * reachable only through `revealApiKey`. Options without a key are returned as a plain copy.
 */
export function hideApiKey(options: GrokImageOptions): GrokImageOptions {
  if (typeof options !== "object" || options === null || Array.isArray(options)) return options;
  const { apiKey, ...rest } = options as ShownOptions;
  if (apiKey === undefined) return { ...rest };
  // Already hidden (options passed from the Astro integration to the Vite plugin): keep the first closure.
  const reveal = (options as ShownOptions)[API_KEY] ?? (() => apiKey);
  return { ...rest, apiKey: REDACTED, [API_KEY]: reveal } as GrokImageOptions;
}

/** The `apiKey` option as the user gave it: the hidden value of options made by `hideApiKey`, else `apiKey`. */
export function revealApiKey(options: GrokImageOptions): unknown {
  const reveal = (options as ShownOptions)[API_KEY];
  return typeof reveal === "function" ? reveal() : options.apiKey;
}

/**
 * What is wrong with a key, in words that never quote it, or undefined for a well-formed one. A key is one
 * printable ASCII word: a line break or a space means a copy-paste went wrong, and HTTP would refuse (or, worse,
 * split) an `Authorization` header holding one.
 */
export function apiKeyProblem(key: string): string | undefined {
  for (let i = 0; i < key.length; i++) {
    const code = key.charCodeAt(i);
    if (code > 0x20 && code < 0x7f) continue;
    const at = `character ${i + 1} of ${key.length}`;
    if (code === 0x0a || code === 0x0d) return `it contains a line break (${at})`;
    if (code === 0x20 || code === 0x09) return `it contains ${code === 0x20 ? "a space" : "a tab"} (${at})`;
    const hex = code.toString(16).toUpperCase().padStart(4, "0");
    return code < 0x20 || (code >= 0x7f && code <= 0x9f)
      ? `it contains the control character U+${hex} (${at})`
      : `it contains the non-ASCII character U+${hex} (${at})`;
  }
  return undefined;
}
