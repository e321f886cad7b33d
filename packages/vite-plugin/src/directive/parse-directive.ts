import type { Directive, Fit, Generation, OutputFormat, PlaceholderKind, Tier, Transform } from "../types.js";
import { suggestBareValue, suggestParam, suggestValue, suggestVariant } from "./did-you-mean.js";
import { badDirective, didYouMeanText, list, rejectValue, rewriteHint } from "./directive-error.js";
import { generationKey } from "./generation-key.js";
import { isTier, TIER_NAMES, TIERS } from "./models.js";
import { FORMAT_ALIASES, OUTPUT_FORMATS, oneOf, positiveInt } from "./param-values.js";
import { OUTPUT_SHAPES, PLACEHOLDER_KINDS, POSITIONS, parseOutputs, resolveStyle } from "./parse-outputs.js";

/*
 * Directive grammar (SPEC section 2):
 *
 *   grok:<prompt>[?<name>=<value>[&<name>=<value>...]]
 *
 * - The prompt ends at the first `?` that is not escaped. Two ways keep a `?` in the prompt: `\?` (the backslash
 *   is dropped) and `%3F` (decoded after the split, so it never splits). Any other backslash is literal.
 * - The prompt is then percent-decoded: every `%XX` run is decoded as UTF-8. A `%` that is not followed by two
 *   hex digits stays literal, so "a 50% discount banner" works as written; a `%XX` run that is not valid UTF-8
 *   (e.g. `%FF`) is an error. Then it is NFC-normalized (the same visible prompt is one cache entry whatever the
 *   editor stored), trimmed, and inner whitespace runs collapse to one space. `+` is never a space.
 * - Parameter names and values are percent-decoded and trimmed the same way; empty `&&` segments are ignored.
 * - `format=jpg` is accepted as an alias of `jpeg` because that is how most people spell the file type.
 * - `w` and `format` take several values separated by `;` (vite-imagetools' syntax) for `as=srcset|picture`;
 *   parse-outputs.ts reads them, with `alt`, `style`, `placeholder` and `position`.
 * - Errors say what was likely meant (did-you-mean.ts) and what is accepted (directive-error.ts).
 */

export const DIRECTIVE_PREFIX = "grok:";
export { OUTPUT_FORMATS, toOutputFormat } from "./param-values.js";

const FITS = ["cover", "contain", "inside", "outside", "fill"] as const satisfies readonly Fit[];
const DIRECTIVE_PARAMS = [
  "tier",
  "n",
  "ratio",
  "resolution",
  "v",
  "w",
  "h",
  "fit",
  "format",
  "quality",
  "pick",
  "alt",
  "style",
  "placeholder",
  "position",
  "as",
] as const;
type ParamName = (typeof DIRECTIVE_PARAMS)[number];

const VARIANT_TOKEN = /^[A-Za-z0-9_-]{1,32}$/;
/** Query markers Vite itself adds to ids in dev (`?import`, HMR timestamps); never directive params. */
const VITE_QUERY_SEGMENT = /^(?:import|t=\d+)$/;

/** Plugin-level defaults a directive falls back to. */
export interface DirectiveDefaults {
  readonly tier: Tier;
  readonly format: OutputFormat;
  readonly quality: number;
  /** The `placeholder` option (`true` is blur). @default "none" */
  readonly placeholder?: boolean | PlaceholderKind;
  /** The `styles` option: prompt presets by name. @default {} */
  readonly styles?: Readonly<Record<string, string>>;
  /** The `style` option: the preset of directives without `style=`. @default none */
  readonly style?: string | undefined;
}

/** True for ids that are `grok:` directives (as written in an import or a Markdown image). */
export function isDirectiveId(id: string): boolean {
  return id.startsWith(DIRECTIVE_PREFIX);
}

/** Index of the `?` that starts the params, or -1. A `?` preceded by a backslash does not count. */
function findQueryStart(body: string): number {
  let at = body.indexOf("?");
  while (at > 0 && body[at - 1] === "\\") at = body.indexOf("?", at + 1);
  return at;
}

/**
 * Removes the query segments Vite appends to ids (`import`, `t=<timestamp>`), keeping everything else as
 * written. Raw specifiers reaching `resolveId` never carry them; ids seen after a dev-server round trip may.
 */
export function stripViteQuery(id: string): string {
  const at = findQueryStart(id);
  // Nearly every id: no query, or one with neither segment (a build inlines thousands).
  if (at === -1 || (!id.includes("import", at) && !id.includes("t=", at))) return id;
  const segments = id.slice(at + 1).split("&");
  const kept = segments.filter((segment) => !VITE_QUERY_SEGMENT.test(segment));
  if (kept.length === segments.length) return id;
  return kept.length === 0 ? id.slice(0, at) : `${id.slice(0, at)}?${kept.join("&")}`;
}

function percentDecode(text: string, raw: string, where: string): string {
  return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch (cause) {
      throw badDirective(
        raw,
        `the ${where} contains the percent-encoded sequence "${run}", which is not valid UTF-8`,
        {
          hint: "Percent-encode text as UTF-8 (a space is %20, a ? is %3F), or write %25 for a literal %.",
          cause,
        },
      );
    }
  });
}

/**
 * C0 controls other than the whitespace ones (tab, line feed, vertical tab, form feed, carriage return, which
 * collapse to a space), DEL and the C1 controls. Invisible in an editor, never meant in a prompt (a stray NUL
 * comes from a binary paste or a string built in code), and MaxAPI would receive them as they are.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL_CHAR = /[\u0000-\u0008\u000e-\u001f\u007f-\u009f]/;

const CONTROL_NAMES: Readonly<Record<number, string>> = { 0: "NUL", 27: "ESC", 127: "DEL" };

/** Rejects a control character in decoded text, naming it (as U+XXXX) and how it was written. */
function rejectControl(decoded: string, written: string, raw: string, where: string): void {
  const found = CONTROL_CHAR.exec(decoded);
  if (!found) return;
  const code = found[0].charCodeAt(0);
  const hex = code.toString(16).toUpperCase().padStart(2, "0");
  const name = CONTROL_NAMES[code];
  const spelled = written.includes(found[0]) ? "" : `, written %${hex}`;
  throw badDirective(
    raw,
    `the ${where} contains the control character U+${hex.padStart(4, "0")}${name ? ` (${name})` : ""}${spelled}, ` +
      "which is invisible and would be sent to MaxAPI as it is",
    {
      hint:
        "Remove it from the directive: a prompt is plain text. If it was built in code, check what was " +
        "concatenated into it; for a line break, write a space.",
    },
  );
}

/** Percent-decodes, NFC-normalizes, trims and collapses whitespace, as the generation key expects. */
function normalizeText(text: string, raw: string, where: string): string {
  const decoded = percentDecode(text, raw, where);
  rejectControl(decoded, text, raw, where);
  return decoded.normalize("NFC").replace(/\s+/g, " ").trim();
}

/** The accepted values of every enumerated parameter, for `?pro`-style segments that lack `tier=`. */
function enumeratedValues(): Record<string, readonly string[]> {
  const listed = (key: "ratios" | "resolutions") => [...new Set(TIER_NAMES.flatMap((t) => TIERS[t][key]))];
  return {
    tier: TIER_NAMES,
    format: [...OUTPUT_FORMATS, ...Object.keys(FORMAT_ALIASES)],
    fit: FITS,
    ratio: listed("ratios"),
    resolution: listed("resolutions"),
    placeholder: PLACEHOLDER_KINDS,
    position: POSITIONS,
    as: OUTPUT_SHAPES,
  };
}

function readParams(query: string, raw: string): Map<ParamName, string> {
  const params = new Map<ParamName, string>();
  for (const segment of query.split("&")) {
    if (segment.trim() === "") continue;
    const eq = segment.indexOf("=");
    if (eq === -1) {
      const suggestion = suggestBareValue(segment, enumeratedValues());
      throw badDirective(
        raw,
        `the parameter "${segment}" has no value (expected name=value)${didYouMeanText(suggestion)}` +
          `Accepted parameters: ${list(DIRECTIVE_PARAMS)}`,
        {
          param: segment,
          accepted: DIRECTIVE_PARAMS,
          didYouMean: suggestion,
          hint:
            suggestion === undefined
              ? 'Write parameters as name=value (e.g. tier=pro). To keep a "?" in the prompt, write \\? or %3F.'
              : `Write ${suggestion} instead of ${segment}.`,
        },
      );
    }
    const name = normalizeText(segment.slice(0, eq), raw, "parameter name");
    const value = normalizeText(segment.slice(eq + 1), raw, `value of "${name}"`);
    if (!(DIRECTIVE_PARAMS as readonly string[]).includes(name)) {
      const suggestion = suggestParam(name, value, DIRECTIVE_PARAMS);
      const meant = suggestion?.names.map((n) => `"${n}"`).join(" and ");
      throw badDirective(
        raw,
        `unknown parameter "${name}"${meant === undefined ? ". " : `; did you mean ${meant}? `}` +
          `Accepted parameters: ${list(DIRECTIVE_PARAMS)}`,
        {
          param: name,
          accepted: DIRECTIVE_PARAMS,
          didYouMean: suggestion?.names.join("&"),
          ...(suggestion === undefined
            ? {}
            : { hint: `Write ${suggestion.replacement} instead of ${name}=${value}.` }),
        },
      );
    }
    if (params.has(name as ParamName)) {
      throw badDirective(raw, `the parameter "${name}" is given more than once`, {
        param: name,
        hint: "Keep one of them.",
      });
    }
    params.set(name as ParamName, value);
  }
  return params;
}

function parseTier(raw: string, params: Map<ParamName, string>, defaults: DirectiveDefaults): Tier {
  const value = params.get("tier");
  if (value === undefined) return defaults.tier;
  if (!isTier(value)) {
    // The model id in full (`grok-imagine/text-to-image-pro`) is a common way to name a tier.
    const byModel = TIER_NAMES.find((t) => TIERS[t].model === value);
    throw rejectValue(raw, "tier", value, TIER_NAMES, {
      suggestion: byModel ?? suggestValue("tier", value, TIER_NAMES),
    });
  }
  return value;
}

/** ratio/resolution: only tiers that list values accept them; lite is told to put the orientation in words. */
function parseListed(
  raw: string,
  name: "ratio" | "resolution",
  value: string | undefined,
  tier: Tier,
  tierIsDefault: boolean,
): string | null {
  if (value === undefined) return null;
  const listed = (t: Tier): readonly string[] => TIERS[t][name === "ratio" ? "ratios" : "resolutions"];
  const accepted = listed(tier);
  if (accepted.length === 0) {
    const others = TIER_NAMES.filter((t) => listed(t).length > 0);
    const otherValues = others[0] === undefined ? [] : listed(others[0]);
    throw badDirective(
      raw,
      `the ${tier} tier${tierIsDefault ? " (the default tier)" : ""} does not accept "${name}": Grok Imagine ${tier} ` +
        `chooses the image's shape from the prompt. Describe the orientation in the prompt instead ` +
        `(e.g. "a wide landscape of ..." or "a tall portrait of ..."), or use ${others.map((t) => `tier=${t}`).join(" or ")}, ` +
        `which accept ${name} ${list(otherValues)}`,
      {
        param: name,
        hint: `Remove ${name}=${value} and describe the orientation in the prompt, e.g. "a wide landscape of a misty forest".`,
      },
    );
  }
  return oneOf(raw, name, value, accepted, ` by tier ${tier}`);
}

/**
 * Parses and validates one directive as written (`grok:a misty forest?tier=pro&w=640`). Throws
 * `GrokImageError("GROK_BAD_DIRECTIVE")` naming the directive, the problem, the accepted values and, when one is
 * close, what was likely meant; callers set the error's `importer` (and `loc` when they know the source).
 */
export function parseDirective(raw: string, defaults: DirectiveDefaults): Directive {
  let known = parsedWith.get(defaults);
  if (!known) {
    known = new Map();
    parsedWith.set(defaults, known);
  }
  let directive = known.get(raw);
  if (!directive) {
    directive = parseOnce(raw, defaults);
    // A long-running dev server meets new spellings as files are edited: the memo stays a bounded cache.
    if (known.size >= MAX_REMEMBERED) known.clear();
    known.set(raw, directive);
  }
  return directive;
}

/**
 * Directives already parsed with each defaults object (a build's resolved options), by text: a build parses each
 * directive at least twice (the plan's scan, the module that names it) and a site may name thousands. Directives
 * are frozen, so one object serves every caller; a bad directive is not kept, and throws anew each time.
 */
const parsedWith = new WeakMap<DirectiveDefaults, Map<string, Directive>>();
const MAX_REMEMBERED = 20_000;

function parseOnce(raw: string, defaults: DirectiveDefaults): Directive {
  if (!isDirectiveId(raw)) {
    throw badDirective(raw, `it does not start with "${DIRECTIVE_PREFIX}"`);
  }
  const body = raw.slice(DIRECTIVE_PREFIX.length);
  const at = findQueryStart(body);
  const promptPart = (at === -1 ? body : body.slice(0, at)).replaceAll("\\?", "?");
  const prompt = normalizeText(promptPart, raw, "prompt");
  if (prompt === "") {
    throw badDirective(raw, "the prompt is empty", {
      hint: 'Write the prompt after "grok:", e.g. grok:a misty forest at dawn.',
    });
  }
  const params = readParams(at === -1 ? "" : body.slice(at + 1), raw);

  const tier = parseTier(raw, params, defaults);
  const spec = TIERS[tier];
  const nValue = params.get("n");
  const nRange = `${spec.minN}-${spec.maxN} for tier ${tier}`;
  const n = nValue === undefined ? 1 : positiveInt(raw, "n", nValue, `integers ${nRange}`);
  if (n < spec.minN || n > spec.maxN) {
    const roomier = TIER_NAMES.filter((t) => n >= TIERS[t].minN && n <= TIERS[t].maxN);
    throw badDirective(raw, `n=${n} is out of range. Accepted values: ${nRange} (${describeNRanges()})`, {
      param: "n",
      hint:
        roomier.length === 0
          ? `Use n=${spec.minN} to n=${spec.maxN}, or several directives with different v values.`
          : `Use n=${spec.maxN} or fewer, or ${roomier.map((t) => `tier=${t}`).join(" or ")} for n=${n}.`,
    });
  }
  const tierIsDefault = !params.has("tier");
  const ratio = parseListed(raw, "ratio", params.get("ratio"), tier, tierIsDefault);
  const resolution = parseListed(raw, "resolution", params.get("resolution"), tier, tierIsDefault);
  const vValue = params.get("v");
  if (vValue !== undefined && !VARIANT_TOKEN.test(vValue)) {
    const suggestion = suggestVariant(vValue);
    throw badDirective(
      raw,
      `v=${JSON.stringify(vValue)} is not accepted${didYouMeanText(suggestion)}` +
        `Accepted values: 1 to 32 letters, digits, "_" or "-" (e.g. v=2, v=hero)`,
      {
        param: "v",
        didYouMean: suggestion,
        ...rewriteHint("v", vValue, suggestion),
      },
    );
  }

  const outputs = parseOutputs(raw, params, defaults);
  const h = params.has("h")
    ? positiveInt(raw, "h", params.get("h") as string, "positive integers (pixels)")
    : null;
  const w = outputs.widths.reduce<number | null>(
    (max, width) => (width === null || (max !== null && max >= width) ? max : width),
    null,
  );
  const fitValue = params.get("fit");
  const fit =
    fitValue === undefined ? (w !== null && h !== null ? "cover" : null) : oneOf(raw, "fit", fitValue, FITS);
  const format = outputs.formats[outputs.formats.length - 1] ?? defaults.format;
  const qualityValue = params.get("quality");
  const quality =
    qualityValue === undefined
      ? defaults.quality
      : positiveInt(raw, "quality", qualityValue, "integers 1-100");
  if (quality > 100) {
    throw badDirective(raw, `quality=${quality} is out of range. Accepted values: integers 1-100`, {
      param: "quality",
      hint: "Use a quality from 1 to 100.",
    });
  }
  const positionValue = params.get("position");
  const position = positionValue === undefined ? undefined : oneOf(raw, "position", positionValue, POSITIONS);
  const style = resolveStyle(raw, params.get("style"), defaults);

  const generation: Generation = Object.freeze({
    model: spec.model,
    tier,
    prompt: style ? `${prompt}, ${style.text}` : prompt,
    n,
    ratio,
    resolution,
    v: vValue ?? null,
  });
  const transform: Transform = Object.freeze({
    w,
    h,
    fit,
    format,
    quality,
    ...(position === undefined || position === "center" ? {} : { position }),
  });
  const pick = parsePick(raw, params.get("pick"), n);
  return Object.freeze({
    raw,
    generation,
    generationKey: generationKey(generation),
    transform,
    pick,
    alt: outputs.alt ?? prompt,
    style: style?.name ?? null,
    placeholder: outputs.placeholder,
    output: outputs.output,
  });
}

/**
 * `pick=k`: which of the task's `n` images is the default export (1-based, as the workbench numbers takes). Not part
 * of the generation key: choosing another take never generates again.
 */
function parsePick(raw: string, value: string | undefined, n: number): number {
  if (value === undefined) return 1;
  const accepted =
    n === 1 ? "1 (the directive makes one image; add n=2 or more for several takes)" : `integers 1-${n}`;
  const pick = positiveInt(raw, "pick", value, accepted);
  if (pick > n) {
    throw badDirective(
      raw,
      `pick=${pick} is out of range: the task makes ${n} image${n === 1 ? "" : "s"} (n=${n}). Accepted values: ${accepted}`,
      {
        param: "pick",
        hint:
          n === 1
            ? `Remove pick=${pick}, or ask for more takes with n=${pick}.`
            : `Use pick=1 to pick=${n}, or raise n.`,
      },
    );
  }
  return pick;
}

function describeNRanges(): string {
  return TIER_NAMES.map((t) => `${t} ${TIERS[t].minN}-${TIERS[t].maxN}`).join(", ");
}
