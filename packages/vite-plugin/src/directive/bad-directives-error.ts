import path from "node:path";
import { type DirectiveLocation, GrokImageError } from "../errors.js";
import { codeFrame } from "./code-frame.js";
import { badDirectivePrefix, DIRECTIVE_HINT } from "./directive-error.js";

export type { DirectiveLocation } from "../errors.js";
export { codeFrame, locationOf } from "./code-frame.js";

/** A directive that did not parse, and where it is written. */
export interface LocatedBadDirective extends DirectiveLocation {
  /** The directive as the bundler reads it. */
  raw: string;
  /** As written, when that differs from `raw` (a Markdown directive with literal spaces): what is shown. */
  written?: string | undefined;
  /** What `parseDirective` threw. */
  error: GrokImageError;
  /** The file's text, for the code frame; without it the entry has no frame. */
  source?: string;
}

/**
 * One error listing every bad directive of a build (SPEC section 4, step 1), so a user fixes them all in one go
 * instead of one build per typo. For each, sorted by file and position: `file:line:col` relative to `root`, the
 * directive, what is wrong with it (with the accepted values and a "did you mean" when the parser found one), what
 * to write instead, and a code frame. A directive reported twice at one place (two environments of one build) is
 * listed once. The error's `importer`, `directive`, `loc` and `frame` are those of the first entry, so the Vite and
 * Astro overlays link to it.
 */
export function badDirectivesError(bad: readonly LocatedBadDirective[], root: string): GrokImageError {
  const entries = unique(bad).sort(
    (a, b) => compare(a.file, b.file) || a.line - b.line || a.column - b.column || compare(a.raw, b.raw),
  );
  const first = entries[0];
  if (first === undefined) throw new TypeError("badDirectivesError needs at least one bad directive.");
  const frames = entries.map((entry) =>
    entry.source === undefined ? undefined : codeFrame(entry.source, entry.line, entry.column),
  );
  const blocks = entries.map((entry, i) => describe(entry, root, frames[i]));
  const count =
    entries.length === 1 ? "A grok: directive is invalid" : `${entries.length} grok: directives are invalid`;
  const frame = frames[0];
  const generic = entries.some((entry) => !specificHint(entry.error)) ? ` ${DIRECTIVE_HINT}` : "";
  return new GrokImageError("GROK_BAD_DIRECTIVE", `${count}:\n\n${blocks.join("\n\n")}`, {
    importer: first.file,
    directive: first.raw,
    loc: { file: first.file, line: first.line, column: first.column },
    ...(frame === undefined ? {} : { frame }),
    hint:
      `Fix ${entries.length === 1 ? "the directive" : "each directive"} as shown above, then build again: ` +
      `nothing is submitted (or paid) until every directive of the build is valid.${generic}`,
  });
}

/** One entry: where, the directive, what is wrong, what to write instead, and the frame. */
function describe(entry: LocatedBadDirective, root: string, frame: string | undefined): string {
  const prefix = badDirectivePrefix(entry.raw);
  const { message } = entry.error;
  const what = message.startsWith(prefix) ? message.slice(prefix.length) : message;
  const lines = [
    `${displayPath(entry.file, root)}:${entry.line}:${entry.column}  ${entry.written ?? entry.raw}`,
    what,
  ];
  const hint = specificHint(entry.error);
  if (hint) lines.push(`fix: ${hint}`);
  if (frame !== undefined) lines.push(frame);
  return lines.join("\n");
}

/** The entry's own advice; the generic one (what a directive looks like) is said once, in the error's hint. */
function specificHint(error: GrokImageError): string | undefined {
  return error.hint === DIRECTIVE_HINT ? undefined : error.hint;
}

/** `src/pages/index.astro` under the root, the path as given outside it; always with `/`. */
function displayPath(file: string, root: string): string {
  const relative = path.relative(root, file);
  const shown = relative === "" || relative.startsWith("..") || path.isAbsolute(relative) ? file : relative;
  return shown.replaceAll("\\", "/");
}

function unique(bad: readonly LocatedBadDirective[]): LocatedBadDirective[] {
  const seen = new Map<string, LocatedBadDirective>();
  for (const entry of bad) {
    const key = `${entry.file}\0${entry.line}\0${entry.column}\0${entry.raw}`;
    if (!seen.has(key)) seen.set(key, entry);
  }
  return [...seen.values()];
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
