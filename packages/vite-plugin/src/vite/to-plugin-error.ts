import type { Rolldown } from "vite";
import { formatError, GrokImageError } from "../errors.js";

/**
 * The error Vite shows for a failed `grok:` directive: the text of `formatError` (what happened, where, what to
 * do) and no stack, because a stack trace into the plugin tells a user nothing about their directive. Vite's
 * overlay prints only the `at ...` lines of `stack`, so an empty stack leaves just the message; `cause` is left out
 * because the bundler prints a cause with its stack. The stable `code` travels as `pluginCode`.
 */
export function toPluginError(error: unknown, importer?: string): Rolldown.RollupError {
  if (!GrokImageError.isInstance(error)) {
    return error instanceof Error ? error : { message: String(error) };
  }
  if (importer) error.importer ??= importer;
  return {
    name: error.name,
    message: formatError(error),
    stack: "",
    pluginCode: error.code,
    ...(error.importer ? { id: error.importer } : {}),
  };
}
