import type { DirectiveOutput, OutputFormat, OutputShape, PlaceholderKind, Position } from "../types.js";
import { suggestValue } from "./did-you-mean.js";
import { badDirective, didYouMeanText, list, rejectValue } from "./directive-error.js";
import { OUTPUT_FORMATS, positiveInt, toOutputFormat } from "./param-values.js";

/*
 * The params that shape what an import gives, rather than what is generated: `as`, the `;`-separated lists of
 * `w` and `format` (vite-imagetools' syntax), `alt`, `placeholder`, and `style` (which does change the prompt sent).
 */

export const OUTPUT_SHAPES = ["metadata", "srcset", "picture"] as const satisfies readonly OutputShape[];
export const PLACEHOLDER_KINDS = ["blur", "color", "none"] as const satisfies readonly PlaceholderKind[];
export const POSITIONS = ["center", "attention", "entropy"] as const satisfies readonly Position[];
/** The `style=` value that applies no preset, even when the `style` option sets one. */
export const NO_STYLE = "none";

export interface OutputDefaults {
  readonly format: OutputFormat;
  readonly placeholder?: boolean | PlaceholderKind | undefined;
  readonly styles?: Readonly<Record<string, string>> | undefined;
  readonly style?: string | undefined;
}

export interface ParsedOutputs {
  readonly output: DirectiveOutput;
  /** Ascending, without repeats; `[null]` when no `w` is given. */
  readonly widths: readonly (number | null)[];
  readonly formats: readonly OutputFormat[];
  readonly alt: string | undefined;
  readonly placeholder: PlaceholderKind;
}

/** The option's placeholder value as a kind: `true` is blur, `false` and unset are none. */
export function toPlaceholderKind(value: boolean | PlaceholderKind | undefined): PlaceholderKind {
  if (value === true) return "blur";
  if (value === false || value === undefined) return "none";
  return value;
}

function split(value: string): string[] {
  return value
    .split(";")
    .map((part) => part.trim())
    .filter((part) => part !== "");
}

function parseWidths(raw: string, value: string | undefined): (number | null)[] {
  if (value === undefined) return [null];
  const parts = split(value);
  if (parts.length === 0) parts.push(value);
  const widths = parts.map((part) =>
    positiveInt(raw, "w", part, "positive integers (pixels), or several as w=320;640;1280"),
  );
  return [...new Set(widths)].sort((a, b) => a - b);
}

function parseFormats(raw: string, value: string | undefined, fallback: OutputFormat): OutputFormat[] {
  if (value === undefined) return [fallback];
  const parts = split(value);
  if (parts.length === 0) parts.push(value);
  const formats = parts.map((part) => {
    const known = toOutputFormat(part);
    if (known) return known;
    throw rejectValue(raw, "format", part, OUTPUT_FORMATS, {
      note: " (jpg means jpeg)",
      suggestion: suggestValue("format", part, OUTPUT_FORMATS),
    });
  });
  return [...new Set(formats)];
}

export function parseOutputs(
  raw: string,
  params: ReadonlyMap<string, string>,
  defaults: OutputDefaults,
): ParsedOutputs {
  const asValue = params.get("as");
  let as: OutputShape = "metadata";
  if (asValue !== undefined) {
    if (!(OUTPUT_SHAPES as readonly string[]).includes(asValue)) {
      throw rejectValue(raw, "as", asValue, OUTPUT_SHAPES, {
        suggestion: suggestValue("as", asValue, OUTPUT_SHAPES),
      });
    }
    as = asValue as OutputShape;
  }
  const widths = parseWidths(raw, params.get("w"));
  const formats = parseFormats(raw, params.get("format"), defaults.format);
  if (as === "metadata" && (widths.length > 1 || formats.length > 1)) {
    const which = widths.length > 1 ? `w=${params.get("w")}` : `format=${params.get("format")}`;
    throw badDirective(
      raw,
      `${which} asks for several images, and the default export is one image. Add as=srcset (one format, several ` +
        "widths) or as=picture (several formats and widths)",
      {
        param: widths.length > 1 ? "w" : "format",
        hint:
          `Write ${raw.includes("?") ? "&" : "?"}as=picture (or as=srcset) after the params. In Astro, import one image ` +
          "and let <Picture widths formats> or <Image widths> make the sizes.",
      },
    );
  }
  if (as === "srcset" && formats.length > 1) {
    throw badDirective(
      raw,
      `as=srcset holds one format, and format=${params.get("format")} gives ${formats.length}`,
      {
        param: "format",
        hint: "Use as=picture for one srcset per format, or keep one format.",
      },
    );
  }
  const placeholderValue = params.get("placeholder");
  const placeholder =
    placeholderValue === undefined
      ? toPlaceholderKind(defaults.placeholder)
      : checkPlaceholder(raw, placeholderValue);
  return {
    output: Object.freeze({ as, widths: Object.freeze(widths), formats: Object.freeze(formats) }),
    widths,
    formats,
    alt: params.get("alt"),
    placeholder,
  };
}

function checkPlaceholder(raw: string, value: string): PlaceholderKind {
  if ((PLACEHOLDER_KINDS as readonly string[]).includes(value)) return value as PlaceholderKind;
  const suggestion =
    value === "true"
      ? "blur"
      : value === "false"
        ? "none"
        : suggestValue("placeholder", value, PLACEHOLDER_KINDS);
  throw rejectValue(raw, "placeholder", value, PLACEHOLDER_KINDS, { suggestion });
}

/** The style a directive applies (its name and preset text), or null. Unknown names are errors with the names. */
export function resolveStyle(
  raw: string,
  value: string | undefined,
  defaults: OutputDefaults,
): { name: string; text: string } | null {
  const name = value ?? defaults.style;
  if (name === undefined || name === NO_STYLE) return null;
  const styles = defaults.styles ?? {};
  const text = Object.hasOwn(styles, name) ? styles[name] : undefined;
  if (text !== undefined) return { name, text: text.replace(/\s+/g, " ").trim() };
  const names = Object.keys(styles);
  const accepted = [...names, NO_STYLE];
  const suggestion = suggestValue("style", name, names);
  const from = value === undefined ? ` (the style option)` : "";
  throw badDirective(
    raw,
    names.length === 0
      ? `style=${JSON.stringify(name)}${from} names no preset: the styles option defines none. Accepted values: ${NO_STYLE}`
      : `style=${JSON.stringify(name)}${from} is not a name in the styles option${didYouMeanText(suggestion)}` +
          `Accepted values: ${list(accepted)}`,
    {
      param: "style",
      accepted,
      didYouMean: suggestion,
      hint:
        suggestion !== undefined
          ? `Write style=${suggestion} instead of style=${name}.`
          : `Add it to the styles option, e.g. styles: { ${/^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name)}: "black ink line drawing" }, or use one of the accepted names.`,
    },
  );
}
