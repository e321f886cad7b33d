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
 * `id` and `loc` (the file:line:column line, a link in the overlay). The code frame stays in the message rather
 * than in `frame`: `astro build` prints the message, hint and location of a failed build but never its `frame`, and
 * Vite would print a `frame` a second time after a message that holds it. `loc.column` stays 1-based, as editors
 * and terminals read `file:line:column`; Rollup's own errors count columns from 0, but nothing here recomputes a
 * frame from the column.
 */
export function toPluginError(
  error: unknown,
  importer?: string,
  how: ToPluginErrorOptions = {},
): Rolldown.RollupError {
  if (!GrokImageError.isInstance(error)) {
    return error instanceof Error ? error : { message: String(error) };
  }
  if (importer) error.importer ??= importer;
  const { loc } = error;
  let message = formatError(error);
  const apart = how.hintApart === true && error.hint !== undefined;
  if (apart) message = message.replace(`\n  hint: ${error.hint}`, "");
  const id = loc?.file ?? error.importer;
  return {
    name: error.name,
    message: `[${error.code}] ${message}`,
    stack: "",
    pluginCode: error.code,
    ...(id ? { id } : {}),
    ...(loc ? { loc: { file: loc.file, line: loc.line, column: loc.column } } : {}),
    // Astro's dev overlay: a title over the message, and the hint in its own box under it.
    ...(apart ? { hint: error.hint, title: TITLES[error.code] ?? "grok-image could not make an image" } : {}),
  };
}

export interface ToPluginErrorOptions {
  /**
   * Give the hint its own field (and a title) instead of a line of the message: Astro's dev overlay shows both in
   * boxes of their own. @default false
   */
  hintApart?: boolean;
}

/** Overlay titles, for the codes users meet in a dev server. */
const TITLES: Partial<Record<GrokImageError["code"], string>> = {
  GROK_BAD_DIRECTIVE: "Invalid grok: directive",
  GROK_MODERATION: "Prompt rejected by moderation",
  GROK_TASK_FAILED: "Image generation failed",
  GROK_TIMEOUT: "Image generation timed out",
  GROK_AUTH: "MaxAPI refused the key",
  GROK_INSUFFICIENT_POINTS: "No MaxAPI credits left",
  GROK_BUDGET_EXCEEDED: "Budget spent",
  GROK_NO_API_KEY: "No MaxAPI key",
};
