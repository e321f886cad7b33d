import type { Rolldown } from "vite";
import { formatError, GrokImageError } from "../errors.js";

/**
 * The error Vite shows for a failed `grok:` directive: `[GROK_CODE]` and the text of `formatError` (what happened,
 * where, what to do) and no stack, because a stack trace into the plugin tells a user nothing about their
 * directive. Vite's overlay prints only the `at ...` lines of `stack`, so an empty stack leaves just the message;
 * `cause` is left out because the bundler prints a cause with its stack. The stable `code` also travels as
 * `pluginCode`.
 *
 * When the error knows where the directive is, that goes in the fields Vite and Astro show beside the message:
 * `id` and `loc` (the file:line:column line, a link in the overlay) and `frame`. The frame moves out of the message
 * when the message holds it (a report of several directives frames each one), so it is printed once. `loc.column`
 * stays 1-based, as editors and terminals read `file:line:column` and as Astro's overlay frames it; Rollup's own
 * errors count columns from 0, but every frame here is given, so nothing recomputes one from the column.
 */
export function toPluginError(error: unknown, importer?: string): Rolldown.RollupError {
  if (!GrokImageError.isInstance(error)) {
    return error instanceof Error ? error : { message: String(error) };
  }
  if (importer) error.importer ??= importer;
  const { loc, frame } = error;
  let message = formatError(error, { location: loc === undefined });
  if (loc && frame !== undefined) message = message.replace(`\n${frame}`, "");
  const id = loc?.file ?? error.importer;
  return {
    name: error.name,
    message: `[${error.code}] ${message}`,
    stack: "",
    pluginCode: error.code,
    ...(id ? { id } : {}),
    ...(loc ? { loc: { file: loc.file, line: loc.line, column: loc.column } } : {}),
    ...(loc && frame !== undefined ? { frame } : {}),
  };
}
