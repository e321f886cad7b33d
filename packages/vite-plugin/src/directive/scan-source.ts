import { readFileSync, statSync } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { fileIdentity, readSettled } from "../shared/file-identity.js";
import { DIRECTIVE_PREFIX } from "./parse-directive.js";
import { unescapeMarkdown } from "./unescape-markdown.js";

/*
 * A lexical scan, not a parse: fast enough for `grok-image scan` over a whole tree, and the bundler (which does
 * parse) stays the authority at build time. Each pattern is an alternation whose first branches consume
 * comments, code spans and unrelated string literals, so a `grok:` inside them never matches.
 */

/** Which syntaxes to look for: script imports, Markdown images, or both (MDX). */
export type SourceLanguage = "script" | "markdown" | "auto";

export interface FoundDirective {
  /** The directive as the bundler sees it: string escapes (JS) or backslash escapes and entities (Markdown)
   * are decoded, percent-encoding is kept (`parseDirective` decodes it). */
  raw: string;
  /**
   * The directive as a person wrote it, when that differs from `raw`: the literal-space Markdown form reaches the
   * bundler with its spaces as `%20`, but messages and listings show it as written.
   */
  written?: string;
  /** Offset of the directive's literal text in the source. */
  index: number;
}

export interface ScannedDirective extends FoundDirective {
  /** Absolute path of the file. */
  file: string;
}

export interface ScanTreeOptions {
  /** Globs (relative to root, `/`-separated) of files or directories to skip, e.g. `legacy/**`. */
  ignore?: readonly string[];
  /** The cache directory, skipped even when it is not hidden. */
  cacheDir?: string;
  /**
   * Folders (absolute) skipped like `dist/`: where the bundler writes (`build.outDir`). A build's output changes with
   * every build, so listed it would be read and searched on each one, and it names no directive a source does not.
   */
  outDirs?: ReadonlySet<string> | undefined;
  /**
   * Files or folders to skip by their name alone: a check by name costs nothing, where a glob is matched anew
   * against every path of the project.
   */
  skipName?: (name: string, isDirectory: boolean) => boolean;
  /** What earlier scans found in files that have not changed since: those are not read. */
  known?: KnownSources | undefined;
}

/** What a scan found in one file under the root. */
export interface ScannedFile {
  readonly found: readonly FoundDirective[];
  /** Each relative specifier of the file that leaves the root, resolved against the file's folder. */
  readonly leaving: readonly string[];
}

/**
 * What earlier scans found, by file and the identity it had when read (file-identity.ts): a file that keeps it is
 * not read again, so a site of thousands of directives in unchanged pages is planned from a `stat` per page.
 */
export interface KnownSources {
  get(file: string, identity: string): ScannedFile | undefined;
  /** Called for a file read a window after its last change: its identity stands for what it holds. */
  set(file: string, identity: string, scanned: ScannedFile): void;
}

const STRING_BODY = (q: string) => String.raw`grok:(?:(?!\k<${q}>)[^\\\n]|\\[\s\S])*`;
const SCRIPT = new RegExp(
  [
    String.raw`\/\/[^\n]*`,
    String.raw`\/\*[\s\S]*?(?:\*\/|$)`,
    String.raw`\`(?:[^\`\\]|\\[\s\S])*\``,
    // import x from "...", import "...", import type {...} from "...", export * from "..."
    String.raw`\b(?:import|export)\b(?:[\w$*{}\s,]+?\bfrom)?\s*(?<q1>["'])(?<s1>${STRING_BODY("q1")})\k<q1>`,
    // import("...") with one literal argument (an options object may follow), comments allowed before it
    String.raw`\bimport\s*\(\s*(?:\/\*[\s\S]*?\*\/\s*)*(?<q2>["'])(?<s2>${STRING_BODY("q2")})\k<q2>\s*[,)]`,
    // import(`...`): a template literal without substitutions is a plain string to the bundler
    String.raw`\bimport\s*\(\s*(?:\/\*[\s\S]*?\*\/\s*)*\`(?<t1>grok:(?:[^\`\\$]|\\[\s\S]|\$(?!\{))*)\`\s*[,)]`,
    String.raw`"(?:[^"\\\n]|\\[\s\S])*"`,
    String.raw`'(?:[^'\\\n]|\\[\s\S])*'`,
  ].join("|"),
  "g",
);

const ALT_TEXT = String.raw`!\[(?:[^\[\]\\]|\\[\s\S]|\[[^\[\]]*\])*\]`;
const ALT = String.raw`${ALT_TEXT}\(\s*`;
const TITLE = String.raw`(?:\s+(?:"[^"]*"|'[^']*'|\([^()]*\)))?\s*\)`;
const SPACED_TITLE = String.raw`(?:[ \t]+(?:"[^"\n]*"|'[^'\n]*'))?[ \t]*\)`;
const MARKDOWN = new RegExp(
  [
    String.raw`^ {0,3}(?<fence>\`{3,}|~{3,})[^\n]*\n[\s\S]*?(?:^ {0,3}\k<fence>[ \t]*$|(?![\s\S]))`,
    String.raw`(?<tick>\`+)[^\n]*?\k<tick>`,
    String.raw`<!--[\s\S]*?-->`,
    // ![alt](<grok:a misty forest>) — the angle form may hold spaces
    String.raw`${ALT}<(?<m1>grok:[^<>\n]*)>${TITLE}`,
    // ![alt](grok:a%20misty%20forest "title") — no spaces, balanced parentheses allowed
    String.raw`${ALT}(?<m2>grok:(?:[^\s()\\]|\\[^\s]|\((?:[^\s()\\]|\\[^\s])*\))*)${TITLE}`,
    // ![alt](grok:a misty forest "title") — not CommonMark, but the spec's own form, which the Astro integration
    // turns into an image: literal spaces on one line (from the `(` on), a quoted title only, the prompt taken
    // lazily before it. The integration reads it from the source with the same pattern, so both give one raw
    // directive (astro-integration `src/markdown/spaced-image-replacements.ts`).
    String.raw`${ALT_TEXT}\([ \t]*(?<m3>grok:(?:[^\n()\\]|\\[^\n]|\((?:[^\n()\\]|\\[^\n])*\))*?)${SPACED_TITLE}`,
  ].join("|"),
  "dgm",
);

/** The YAML front matter at the very start of a Markdown file. */
const FRONT_MATTER = /^---[ \t]*\r?\n[\s\S]*?\r?\n---[ \t]*(?:\r?\n|$)/;
// `cover: "grok:..."`, `- 'grok:...'` or a bare `cover: grok:...`: a content collection entry's image field. A space
// right after `grok:` reads as prose (`title: "grok: a field guide"`), not a directive.
const FRONT_MATTER_VALUE =
  /^[ \t]*(?:[\w$-]+[ \t]*:|-)[ \t]*(?:"(?<f1>grok:(?! )[^"\n]*)"|'(?<f2>grok:(?! )[^'\n]*)'|(?<f3>grok:(?! )[^\n]*?))[ \t]*(?:#[^\n]*)?$/dgm;

const JS_ESCAPES: Readonly<Record<string, string>> = {
  n: "\n",
  r: "\r",
  t: "\t",
  b: "\b",
  f: "\f",
  v: "\v",
  0: "\0",
};

/** The value of a JS string literal body, as the bundler would pass it to resolveId. */
function unescapeJs(body: string): string {
  return body.replace(
    /\\(?:u\{([0-9a-fA-F]+)\}|u([0-9a-fA-F]{4})|x([0-9a-fA-F]{2})|(\r\n|[\s\S]))/g,
    (
      _all,
      cp: string | undefined,
      u4: string | undefined,
      x2: string | undefined,
      ch: string | undefined,
    ) => {
      const hex = cp ?? u4 ?? x2;
      if (hex !== undefined) return String.fromCodePoint(Number.parseInt(hex, 16));
      if (ch === "\n" || ch === "\r\n" || ch === "\r" || ch === "\u2028" || ch === "\u2029") return "";
      return JS_ESCAPES[ch as string] ?? (ch as string);
    },
  );
}

/** The literal-space form as the bundler receives it (spaces percent-encoded, as if written `%20`), and as written. */
function unescapeSpaced(text: string): Decoded {
  const written = unescapeMarkdown(text).trim();
  const raw = written.replace(/ /g, "%20").replace(/\t/g, "%09");
  return raw === written ? { raw } : { raw, written };
}

type Decoded = Pick<FoundDirective, "raw" | "written">;
/** A decoder whose text reaches the bundler as the person wrote it. */
const same =
  (decode: (text: string) => string) =>
  (text: string): Decoded => ({ raw: decode(text) });

function collect(
  code: string,
  pattern: RegExp,
  decoders: Readonly<Record<string, (text: string) => Decoded>>,
  into: Map<number, FoundDirective>,
): void {
  const groups = Object.entries(decoders);
  for (const match of code.matchAll(pattern)) {
    for (const [group, decode] of groups) {
      const text = match.groups?.[group];
      const span = match.indices?.groups?.[group];
      if (text !== undefined && span) into.set(span[0], { ...decode(text), index: span[0] });
    }
  }
}

const CHAR_I = "i".charCodeAt(0);
const CHAR_E = "e".charCodeAt(0);

/**
 * `collect` for scripts, where every string literal and comment of a file is a match: only a match that starts with
 * `import` or `export` can hold a directive. Its offset is found from the match's end, since what follows the
 * directive's text (a quote or backtick, spaces, `,` or `)`) holds no "g": the pattern needs no `d` flag, which
 * costs an array of offsets per group of every match.
 */
function collectScript(code: string, into: Map<number, FoundDirective>): void {
  for (const match of code.matchAll(SCRIPT)) {
    const first = match[0].charCodeAt(0);
    if (first !== CHAR_I && first !== CHAR_E) continue;
    const text = match.groups?.s1 ?? match.groups?.s2 ?? match.groups?.t1;
    if (text === undefined) continue;
    const index = match.index + match[0].lastIndexOf(text);
    into.set(index, { raw: unescapeJs(text), index });
  }
}

/** Every `grok:` directive in one source file, in source order. */
export function findDirectives(code: string, language: SourceLanguage = "auto"): FoundDirective[] {
  if (!code.includes(DIRECTIVE_PREFIX)) return [];
  const found = new Map<number, FoundDirective>();
  if (language !== "markdown") collectScript(code, found);
  if (language !== "script") {
    const markdown = same(unescapeMarkdown);
    collect(code, MARKDOWN, { m1: markdown, m2: markdown, m3: unescapeSpaced }, found);
    // Front matter starts at offset 0, so its match indices are the file's.
    const frontMatter = FRONT_MATTER.exec(code)?.[0];
    const asIs = same((text) => text);
    if (frontMatter) collect(frontMatter, FRONT_MATTER_VALUE, { f1: asIs, f2: asIs, f3: asIs }, found);
  }
  return [...found.values()].sort((a, b) => a.index - b.index);
}

const SCRIPT_EXTENSIONS = [
  ".js",
  ".mjs",
  ".cjs",
  ".ts",
  ".mts",
  ".cts",
  ".jsx",
  ".tsx",
  ".vue",
  ".svelte",
  ".astro",
];
const MARKDOWN_EXTENSIONS = [".md", ".markdown"];
/** The language of each extension the scan reads, lower case. */
const LANGUAGES = new Map<string, SourceLanguage>([
  ...SCRIPT_EXTENSIONS.map((ext) => [ext, "script"] as const),
  ...MARKDOWN_EXTENSIONS.map((ext) => [ext, "markdown"] as const),
  [".mdx", "auto"],
]);
/**
 * Dependencies, build output, and the folders of tools and version control. Other hidden folders are sources:
 * `.storybook/` and `.vitepress/` hold modules a build imports.
 */
const SKIPPED_DIRS = new Set([
  "node_modules",
  "dist",
  ".git",
  ".hg",
  ".svn",
  ".astro",
  ".svelte-kit",
  ".nuxt",
  ".output",
  ".next",
  ".vercel",
  ".netlify",
  ".cache",
  ".turbo",
  ".yarn",
  ".pnpm-store",
  ".vite",
  ".grok-images",
]);

/** The syntaxes a file may hold, by extension; `undefined` for files the scan ignores. */
export function languageOf(file: string): SourceLanguage | undefined {
  // The scan asks this of every file of the project's folders, images and all: no `path.extname`.
  const dot = file.lastIndexOf(".");
  // A dot that starts the file's name (`.astro`) or sits in a folder's name is no extension.
  if (dot <= Math.max(file.lastIndexOf("/"), file.lastIndexOf(path.sep)) + 1) return undefined;
  return LANGUAGES.get(file.slice(dot).toLowerCase());
}

async function listSourceFiles(root: string, options: ScanTreeOptions): Promise<string[]> {
  const ignore = options.ignore ?? [];
  const { skipName } = options;
  const cacheDir = options.cacheDir ? path.resolve(root, options.cacheDir) : undefined;
  const isIgnored = (abs: string) => {
    if (ignore.length === 0) return false;
    const rel = path.relative(root, abs).split(path.sep).join("/");
    return ignore.some((glob) => path.matchesGlob(rel, glob) || path.matchesGlob(`${rel}/`, glob));
  };
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    const subdirs: Promise<void>[] = [];
    for (const entry of entries) {
      // Symlinks are not followed: they can loop, and linked packages are not this project's source.
      if (entry.isDirectory()) {
        if (SKIPPED_DIRS.has(entry.name) || skipName?.(entry.name, true)) continue;
        const abs = path.join(dir, entry.name);
        if (abs === cacheDir || options.outDirs?.has(abs) || isIgnored(abs)) continue;
        subdirs.push(walk(abs));
      } else if (entry.isFile() && languageOf(entry.name) && !skipName?.(entry.name, false)) {
        // A site's folders hold thousands of images for each source: only a source's path is worked out.
        const abs = path.join(dir, entry.name);
        if (!isIgnored(abs)) files.push(abs);
      }
    }
    await Promise.all(subdirs);
  };
  await walk(root);
  return files.sort();
}

/** `import ... from "../x"`, `export ... from "../x"`, `import("../x")`: relative specifiers a bundler follows. */
const RELATIVE_IMPORT =
  /\b(?:import|export)\b(?:[\w$*{}\s,]+?\bfrom)?\s*["'](\.{1,2}\/[^"'\n]+)["']|\bimport\s*\(\s*["'](\.{1,2}\/[^"'\n]+)["']\s*[,)]/g;
const RESOLVE_EXTENSIONS = [...SCRIPT_EXTENSIONS, ".mdx"];

/**
 * The file a relative specifier names, tried the way bundlers do (as is, with an extension, `.js` as `.ts`, index),
 * when it can hold directives; `base` is the specifier resolved against its importer's folder.
 */
async function resolveRelative(base: string): Promise<string | undefined> {
  const stem = base.replace(/\.(?:m|c)?js$/, "");
  const candidates = [
    base,
    ...RESOLVE_EXTENSIONS.map((ext) => stem + ext),
    ...RESOLVE_EXTENSIONS.map((ext) => path.join(base, `index${ext}`)),
  ];
  for (const candidate of candidates) {
    const info = await stat(candidate).catch(() => undefined);
    if (!info?.isFile()) continue;
    // A file at the path as written is what it names, as a bundler resolves it: an image or a stylesheet is no
    // source, and its name with a script extension added is not tried.
    if (languageOf(candidate)) return candidate;
    if (candidate === base) return undefined;
  }
  return undefined;
}

/**
 * The relative specifiers of `file` that leave `root`, each resolved against the file's folder. A file under the
 * root can only leave it through a `../`; one outside may import its neighbours by `./`.
 */
function leavingBases(root: string, file: string, code: string, isOutside: boolean): string[] {
  if (languageOf(file) === "markdown" || (!isOutside && !code.includes("../"))) return [];
  const dir = path.dirname(file);
  const depth = isOutside ? -1 : depthBelow(root, dir);
  const bases: string[] = [];
  for (const match of code.matchAll(RELATIVE_IMPORT)) {
    const specifier = (match[1] ?? (match[2] as string)).split("?")[0] as string;
    // Whatever a path under the root names (itself, with an extension, its index) was listed already: only
    // paths out of it are looked up, so a page's `../assets/*.jpg` costs nothing.
    if (climbs(specifier) < depth) continue;
    const base = path.resolve(dir, specifier);
    if (!isInside(root, base)) bases.push(base);
  }
  return bases;
}

/**
 * Files outside `root` that a scanned file imports by a relative path, and what those import in turn: resolved
 * anew each scan (one `stat` per candidate), since such a file may appear or go while its importer stays the same.
 */
async function importsOutside(
  root: string,
  scanned: ReadonlyMap<string, ScannedFile>,
  text: (file: string) => string,
): Promise<string[]> {
  const outside: string[] = [];
  const seen = new Set(scanned.keys());
  const queue = [...scanned.values()].map((file) => file.leaving);
  for (let bases = queue.shift(); bases !== undefined; bases = queue.shift()) {
    for (const base of bases) {
      const target = await resolveRelative(base);
      if (!target || seen.has(target) || target.includes(`${path.sep}node_modules${path.sep}`)) continue;
      seen.add(target);
      if (isInside(root, target)) continue;
      outside.push(target);
      queue.push(leavingBases(root, target, text(target), true));
    }
  }
  return outside;
}

/** How many folders `dir` lies below `root`; -1 when it is not below it. */
function depthBelow(root: string, dir: string): number {
  const rel = pathBelow(root, dir);
  return rel === undefined ? -1 : rel === "" ? 0 : rel.split(path.sep).length;
}

/**
 * How many folders a relative specifier climbs before it names something below where it started (`../../x` climbs
 * 2), counted on its text: a site's thousands of `../assets/*.jpg` need no path worked out each. Infinity for one
 * that ends at a folder it climbed to, or has a `.`/`..` further in, which the caller resolves in full.
 */
function climbs(specifier: string): number {
  let at = specifier.startsWith("./") ? 2 : 0;
  let ups = 0;
  while (specifier.startsWith("../", at)) {
    ups++;
    at += 3;
  }
  const rest = specifier.slice(at);
  return rest === "" || DOT_SEGMENT.test(rest) ? Number.POSITIVE_INFINITY : ups;
}

const DOT_SEGMENT = /(?:^|\/)\.\.?(?:\/|$)/;

function isInside(root: string, file: string): boolean {
  return Boolean(pathBelow(root, file));
}

/** `file` relative to `root` ("" for the root itself), or undefined when it is not under it. */
function pathBelow(root: string, file: string): string | undefined {
  const rel = path.relative(root, file);
  return rel.startsWith("..") || path.isAbsolute(rel) ? undefined : rel;
}

/** What a scan found: every directive, and the text of any file (for lines, columns and frames), read on demand. */
export interface ScannedSources {
  readonly directives: ScannedDirective[];
  /** The file's text; "" for one that cannot be read. */
  text(file: string): string;
}

/**
 * Every directive under `root` in script, Markdown and MDX files, skipping dependencies, build output, the
 * folders of tools (`.git`, `.astro`, ...) and the cache dir, plus the files outside the root that these import by
 * a relative path (a monorepo's shared module). Sorted by file, then position.
 */
export async function scanTree(root: string, options: ScanTreeOptions = {}): Promise<ScannedDirective[]> {
  return (await scanSources(root, options)).directives;
}

/** `scanTree`, with the text of any file it names. */
export async function scanSources(root: string, options: ScanTreeOptions = {}): Promise<ScannedSources> {
  const absRoot = path.resolve(root);
  const files = await listSourceFiles(absRoot, options);
  const texts = new Map<string, string>();
  const read = (file: string) => {
    let text = texts.get(file);
    if (text === undefined) {
      text = readFileSync(file, "utf8");
      texts.set(file, text);
    }
    return text;
  };
  const scanned = await scanFiles(absRoot, files, read, options.known);
  const outside = (await importsOutside(absRoot, scanned, read)).sort();
  const directives: ScannedDirective[] = [];
  for (const file of files) {
    for (const found of (scanned.get(file) as ScannedFile).found) directives.push({ ...found, file });
  }
  for (const file of outside) {
    for (const found of findDirectives(read(file), languageOf(file))) directives.push({ ...found, file });
  }
  return {
    directives,
    text: (file) => {
      try {
        return read(file);
      } catch {
        return "";
      }
    },
  };
}

/**
 * Each file's directives and the imports that leave the root: what `known` holds for a file that kept its
 * identity, read and scanned otherwise (and then told to `known`). Read synchronously in batches with the event
 * loop let run between them: a source file is small, one synchronous read costs a fraction of the thread-pool
 * round trips of a promise read (open, stat, read, close), and a build's scan runs while the bundler works, which
 * the batches leave room for.
 */
async function scanFiles(
  root: string,
  files: readonly string[],
  read: (file: string) => string,
  known: KnownSources | undefined,
): Promise<Map<string, ScannedFile>> {
  const scanned = new Map<string, ScannedFile>();
  for (const [i, file] of files.entries()) {
    if (i % READ_BATCH === READ_BATCH - 1) await new Promise((resolve) => setImmediate(resolve));
    const info = known && statSync(file, { throwIfNoEntry: false });
    const identity = info && fileIdentity(info);
    const recorded = identity && known?.get(file, identity);
    if (recorded) {
      scanned.set(file, recorded);
      continue;
    }
    const readAt = Date.now();
    const code = read(file);
    const found = {
      found: findDirectives(code, languageOf(file)),
      leaving: leavingBases(root, file, code, false),
    };
    scanned.set(file, found);
    if (info && identity && readSettled(info, readAt)) known?.set(file, identity, found);
  }
  return scanned;
}

const READ_BATCH = 64;
