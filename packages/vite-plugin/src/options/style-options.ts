import { closest } from "../directive/did-you-mean.js";
import { NO_STYLE, PLACEHOLDER_KINDS, toPlaceholderKind } from "../directive/parse-outputs.js";
import type { PlaceholderKind } from "../types.js";
import { badOption, show } from "./check-option.js";

/** The `placeholder` option: `true`/`false` or a kind; resolved to the kind (`true` is blur). */
export function resolvePlaceholder(value: unknown): PlaceholderKind {
  if (typeof value === "boolean" || (PLACEHOLDER_KINDS as readonly unknown[]).includes(value)) {
    return toPlaceholderKind(value as boolean | PlaceholderKind);
  }
  throw badOption(
    { option: "placeholder" },
    `${show(value)} is not accepted. Accepted values: true, false, ${PLACEHOLDER_KINDS.map((k) => `"${k}"`).join(", ")}`,
  );
}

/** The `styles` option (names to prompt text) and the `style` option (one of its names), validated and frozen. */
export function resolveStyles(
  stylesValue: unknown,
  styleValue: unknown,
): { styles: Readonly<Record<string, string>>; style: string | undefined } {
  const styles: Record<string, string> = {};
  if (stylesValue !== undefined) {
    if (typeof stylesValue !== "object" || stylesValue === null || Array.isArray(stylesValue)) {
      throw badOption(
        { option: "styles" },
        `expected an object of names to prompt text, got ${show(stylesValue)}`,
        'Write e.g. styles: { ink: "black ink line drawing, white paper" }.',
      );
    }
    for (const [name, text] of Object.entries(stylesValue)) {
      if (!/^[\w-]{1,64}$/.test(name) || name === NO_STYLE) {
        throw badOption(
          { option: "styles" },
          `the style name ${JSON.stringify(name)} is not accepted: names are 1 to 64 letters, digits, "_" or "-", and "${NO_STYLE}" is reserved (style=${NO_STYLE} applies no style)`,
        );
      }
      if (typeof text !== "string" || text.trim() === "") {
        throw badOption(
          { option: "styles" },
          `the style "${name}" must be non-empty prompt text, got ${show(text)}`,
        );
      }
      styles[name] = text;
    }
  }
  if (styleValue === undefined || styleValue === NO_STYLE)
    return { styles: Object.freeze(styles), style: undefined };
  const names = Object.keys(styles);
  if (typeof styleValue !== "string" || !names.includes(styleValue)) {
    const meant = typeof styleValue === "string" ? closest(styleValue, names) : undefined;
    throw badOption(
      { option: "style" },
      `${show(styleValue)} is not a name in the styles option${meant ? `; did you mean "${meant}"?` : "."} ` +
        `Accepted values: ${names.length === 0 ? "(the styles option defines none)" : names.join(", ")}`,
    );
  }
  return { styles: Object.freeze(styles), style: styleValue };
}
