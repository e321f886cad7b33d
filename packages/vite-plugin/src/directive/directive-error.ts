import { GrokImageError } from "../errors.js";

/*
 * How the parser words a bad directive. Every message is `Invalid directive "<raw>": <what>.`, where <what> says
 * what is wrong, what was likely meant ("did you mean") and what is accepted; the hint says what to write instead.
 * The same facts travel as data (`param`, `accepted`, `didYouMean`), so a report that lists many bad directives
 * (bad-directives-error.ts) or the dev workbench can use them without reading the text.
 */

/** The hint of an error that has no more specific advice. */
export const DIRECTIVE_HINT =
  "Directives look like grok:<prompt>?tier=standard&n=2&w=640 (see the grok: directive reference).";

/** The start of every parse error's message; a report that shows the directive beside it strips it. */
export function badDirectivePrefix(raw: string): string {
  return `Invalid directive "${raw}": `;
}

export interface BadDirectiveData {
  hint?: string;
  param?: string;
  accepted?: readonly string[];
  didYouMean?: string | undefined;
  cause?: unknown;
}

export function badDirective(raw: string, what: string, data: BadDirectiveData = {}): GrokImageError {
  const { hint = DIRECTIVE_HINT, didYouMean, ...rest } = data;
  return new GrokImageError("GROK_BAD_DIRECTIVE", `${badDirectivePrefix(raw)}${what}.`, {
    directive: raw,
    hint,
    ...rest,
    ...(didYouMean === undefined ? {} : { didYouMean }),
  });
}

export function list(values: readonly string[]): string {
  return values.join(", ");
}

/** What joins the statement of what is wrong to the accepted list: a "did you mean" when there is one. */
export function didYouMeanText(suggestion: string | undefined): string {
  return suggestion === undefined ? ". " : `; did you mean "${suggestion}"? `;
}

/** The hint for `name=value` when `suggestion` is what was likely meant. */
export function rewriteHint(name: string, value: string, suggestion: string | undefined): { hint?: string } {
  return suggestion === undefined ? {} : { hint: `Write ${name}=${suggestion} instead of ${name}=${value}.` };
}

/** A value outside its accepted list: what was written, the likely intent, and the whole list. */
export function rejectValue(
  raw: string,
  name: string,
  value: string,
  accepted: readonly string[],
  options: { by?: string; note?: string; suggestion?: string | undefined } = {},
): GrokImageError {
  const { by = "", note = "", suggestion } = options;
  return badDirective(
    raw,
    `${name}=${JSON.stringify(value)} is not accepted${by}${didYouMeanText(suggestion)}` +
      `Accepted values: ${list(accepted)}${note}`,
    {
      param: name,
      accepted,
      didYouMean: suggestion,
      hint: `Use one of the accepted values, e.g. ${name}=${accepted[0]}.`,
      ...rewriteHint(name, value, suggestion),
    },
  );
}
