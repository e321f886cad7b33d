/*
 * "Did you mean" for directive parameters and values. Two sources, tried in order:
 * 1. tables of the words people reach for from other image tools (`width`, `fmt`, `model`, `aspect_ratio`,
 *    `seed`...), compared case- and separator-insensitively;
 * 2. for typos, the closest accepted spelling (or table word) by edit distance, within a tolerance that grows
 *    with the word, so `fromat` finds format and `tire` finds tier, but `x` is never taken for `w`.
 */

/** What a misspelled parameter most likely meant, keyed by its folded spelling (see `fold`). */
const PARAM_ALIASES: Readonly<Record<string, string>> = {
  width: "w",
  with: "w",
  wdth: "w",
  wd: "w",
  wid: "w",
  height: "h",
  hight: "h",
  heigth: "h",
  ht: "h",
  fmt: "format",
  type: "format",
  ext: "format",
  extension: "format",
  filetype: "format",
  q: "quality",
  qual: "quality",
  count: "n",
  num: "n",
  number: "n",
  images: "n",
  samples: "n",
  model: "tier",
  aspect: "ratio",
  aspectratio: "ratio",
  ar: "ratio",
  res: "resolution",
  variant: "v",
  version: "v",
  variation: "v",
  seed: "v",
  objectfit: "fit",
  crop: "fit",
  resize: "fit",
  // Parameters other tools name differently; each entry is used only while its target is an accepted parameter.
  take: "pick",
  choose: "pick",
  alttext: "alt",
  description: "alt",
  preset: "style",
  lqip: "placeholder",
  blur: "placeholder",
  gravity: "position",
  anchor: "position",
};

/** Words that describe a value of an enumerated parameter, keyed by parameter, then by folded spelling. */
const VALUE_ALIASES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  tier: { light: "lite", basic: "lite", fast: "lite", std: "standard", normal: "standard", premium: "pro" },
  fit: { stretch: "fill", crop: "cover" },
  format: { jpe: "jpeg", jfif: "jpeg" },
  ratio: {
    square: "1:1",
    landscape: "16:9",
    horizontal: "16:9",
    wide: "16:9",
    widescreen: "16:9",
    portrait: "9:16",
    vertical: "9:16",
    tall: "9:16",
  },
  resolution: { hd: "720p", fullhd: "1080p", fhd: "1080p" },
};

/** A corrected spelling of one `name=value` segment. */
export interface ParamSuggestion {
  /** The parameter name(s) meant, as the message quotes them: `["w"]`, or `["w", "h"]` for `size=640x480`. */
  readonly names: readonly string[];
  /** The segment to write instead, e.g. `w=960`. */
  readonly replacement: string;
}

/** Lower case without spaces, `_` and `-`: `Aspect_Ratio`, `aspect-ratio` and `aspectRatio` are one word. */
function fold(word: string): string {
  return word.toLowerCase().replace(/[\s_-]+/g, "");
}

/**
 * Optimal string alignment distance: Levenshtein plus the swap of two adjacent letters as one edit, the most
 * common typo (`fromat`, `tire`).
 */
export function editDistance(a: string, b: string): number {
  // d[i][j]: the distance between the first i letters of a and the first j letters of b.
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/** Edits a typo of a word this long may hold: none up to 2 letters, 1 up to 5, then 2. */
function tolerance(length: number): number {
  return length <= 2 ? 0 : length <= 5 ? 1 : 2;
}

/**
 * The candidate `word` most likely misspells, or `undefined` when none is close: equal ignoring case and
 * separators, else the nearest within the tolerance of the candidate's length (ties go to the earlier candidate).
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const folded = fold(word);
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const target = fold(candidate);
    const distance = editDistance(folded, target);
    if (distance < bestDistance && distance <= tolerance(target.length)) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** `size`/`dimensions` mean different parameters depending on the value: read the value to choose. */
function fromSizeValue(value: string): ParamSuggestion {
  const box = /^(\d+)\s*[x×*]\s*(\d+)$/i.exec(value);
  if (box) return { names: ["w", "h"], replacement: `w=${box[1]}&h=${box[2]}` };
  if (/^\d+$/.test(value)) return { names: ["w"], replacement: `w=${value}` };
  if (/^\d+p$/i.test(value))
    return { names: ["resolution"], replacement: `resolution=${value.toLowerCase()}` };
  if (/^\d+\s*[:/]\s*\d+$/.test(value)) {
    return { names: ["ratio"], replacement: `ratio=${value.replace(/\s*[:/]\s*/, ":")}` };
  }
  // `size=large`: the output size in pixels is what a page controls.
  return { names: ["w", "h"], replacement: "w=<pixels>&h=<pixels>" };
}

/** What an unknown parameter `name` (given `value`) most likely meant, among the `accepted` parameters. */
export function suggestParam(
  name: string,
  value: string,
  accepted: readonly string[],
): ParamSuggestion | undefined {
  const folded = fold(name);
  if (folded === "size" || folded === "dimensions" || folded === "dims") {
    const bySize = fromSizeValue(value);
    return bySize.names.every((n) => accepted.includes(n)) ? bySize : undefined;
  }
  const usable = Object.keys(PARAM_ALIASES).filter((alias) =>
    accepted.includes(PARAM_ALIASES[alias] as string),
  );
  const direct = usable.includes(folded) ? PARAM_ALIASES[folded] : undefined;
  const match = direct ?? closest(name, [...accepted, ...usable]);
  if (match === undefined) return undefined;
  const param = accepted.includes(match) ? match : (PARAM_ALIASES[match] as string);
  return { names: [param], replacement: `${param}=${value}` };
}

/**
 * The accepted value of `param` that `value` most likely meant: a listed synonym (`landscape` is 16:9), a
 * near spelling (`webpp`), or a rewrite of a familiar notation (`16x9`, `1080`, `.png`, `image/avif`).
 */
export function suggestValue(param: string, value: string, accepted: readonly string[]): string | undefined {
  const aliased = VALUE_ALIASES[param]?.[fold(value)];
  if (aliased !== undefined) return accepted.includes(aliased) ? aliased : undefined;
  let rewritten = value;
  if (param === "format") rewritten = value.replace(/^(?:image\/|\.)/i, "");
  if (param === "ratio") rewritten = value.replace(/\s*[x×/-]\s*/i, ":").replace(/\s+/g, "");
  if (param === "resolution") rewritten = value.replace(/^\d+\s*x\s*(\d+)$/i, "$1").replace(/^(\d+)$/, "$1p");
  if (rewritten !== value && accepted.includes(rewritten.toLowerCase())) return rewritten.toLowerCase();
  return closest(rewritten, accepted);
}

/**
 * A repair for a malformed number: units dropped (`640px`, `80%`), and a 0-1 fraction as a percentage for
 * `quality` (`0.8`, how canvas and several image APIs spell it). `undefined` when nothing obvious fits.
 */
export function suggestNumber(param: string, value: string): string | undefined {
  const fraction = /^0?\.(\d+)$/.exec(value);
  if (fraction && param === "quality") {
    const percent = Math.round(Number(value) * 100);
    return percent >= 1 ? String(percent) : undefined;
  }
  const unit = /^(\d+)\s*(?:px|%)$/i.exec(value);
  return unit && !/^0+$/.test(unit[1] as string) ? String(Number(unit[1])) : undefined;
}

/** A `v` token close to what was written: disallowed characters become `-`, capped at 32 characters. */
export function suggestVariant(value: string): string | undefined {
  const token = value
    .replace(/[^A-Za-z0-9_-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 32);
  return token === "" ? undefined : token;
}

/**
 * For a `?word` without `=`: the parameter whose value `word` is (`?pro` means tier=pro, `?webp` format=webp).
 * `values` maps each enumerated parameter to its accepted values.
 */
export function suggestBareValue(
  word: string,
  values: Readonly<Record<string, readonly string[]>>,
): string | undefined {
  const folded = word.toLowerCase().trim();
  for (const [param, accepted] of Object.entries(values)) {
    if (accepted.includes(folded)) return `${param}=${folded}`;
  }
  return undefined;
}
