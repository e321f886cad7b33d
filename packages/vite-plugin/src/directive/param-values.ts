import type { OutputFormat } from "../types.js";
import { suggestNumber, suggestValue } from "./did-you-mean.js";
import { badDirective, didYouMeanText, rejectValue, rewriteHint } from "./directive-error.js";

/** How the parser reads one param value: numbers, enumerations and formats, each rejected with what was meant. */

export const OUTPUT_FORMATS = ["webp", "avif", "jpeg", "png"] as const satisfies readonly OutputFormat[];
export const FORMAT_ALIASES: Readonly<Record<string, OutputFormat>> = { jpg: "jpeg" };
const POSITIVE_INT = /^[1-9][0-9]*$/;

/** Output format for a user-written value (`jpg` is an alias of `jpeg`), or `undefined` if unknown. */
export function toOutputFormat(value: string): OutputFormat | undefined {
  if ((OUTPUT_FORMATS as readonly string[]).includes(value)) return value as OutputFormat;
  return FORMAT_ALIASES[value];
}

export function positiveInt(raw: string, name: string, value: string, accepted: string): number {
  const parsed = Number(value);
  if (!POSITIVE_INT.test(value) || !Number.isSafeInteger(parsed)) {
    const suggestion = suggestNumber(name, value);
    throw badDirective(
      raw,
      `${name}=${JSON.stringify(value)} is not accepted${didYouMeanText(suggestion)}Accepted values: ${accepted}`,
      {
        param: name,
        didYouMean: suggestion,
        ...rewriteHint(name, value, suggestion),
      },
    );
  }
  return parsed;
}

export function oneOf<T extends string>(
  raw: string,
  name: string,
  value: string,
  accepted: readonly T[],
  by = "",
): T {
  if (!(accepted as readonly string[]).includes(value)) {
    throw rejectValue(raw, name, value, accepted, { by, suggestion: suggestValue(name, value, accepted) });
  }
  return value as T;
}
