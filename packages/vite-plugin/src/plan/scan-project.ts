import path from "node:path";
import { locator } from "../directive/code-frame.js";
import { parseDirective } from "../directive/parse-directive.js";
import { type KnownSources, languageOf, scanSources } from "../directive/scan-source.js";
import type { DirectiveUse } from "../engine/engine-types.js";
import { GrokImageError } from "../errors.js";
import type { ResolvedOptions } from "../types.js";

/*
 * The one scan of a project that the build's plan, the dev server and every CLI command share, so they always agree
 * on which directives exist and on their generation keys. The bundler stays the authority on what is *used*: the
 * plan validates and prices everything found here before the first submit, and only what the module graph loads
 * is ever paid for.
 */

/**
 * Files no build ever bundles: a directive in a test or a spec is the test's business, never the site's. The globs
 * `**\/*.test.*`, `**\/*.spec.*`, `**\/__tests__/**` and `**\/__test__/**`, checked by name.
 */
function neverBuilt(name: string, isDirectory: boolean): boolean {
  return TEST_NAME.test(name) || (isDirectory && TEST_FOLDERS.has(name));
}
const TEST_NAME = /\.(?:test|spec)\./;
const TEST_FOLDERS = new Set(["__tests__", "__test__"]);

/** A directive found in a file, with where it is (1-based line and column of its `g`). */
export interface FoundUse extends DirectiveUse {
  readonly importer: string;
  readonly line: number;
  readonly column: number;
  /** The directive as written, when its `raw` differs (see `FoundDirective.written`). */
  readonly written?: string;
}

/** A directive that did not parse, with where it is and the file's text (for a code frame). */
export interface BadDirective {
  readonly raw: string;
  /** As written, when that differs from `raw`. */
  readonly written?: string;
  readonly importer: string;
  readonly line: number;
  readonly column: number;
  readonly error: GrokImageError;
  readonly source: string;
}

export interface ProjectScan {
  readonly uses: FoundUse[];
  readonly errors: BadDirective[];
  /** Directives (as written) left unparsed because `ScanProjectOptions.recorded` holds them. */
  readonly recorded: string[];
}

export interface ScanProjectOptions {
  /** Globs (relative to the root) of files and directories to skip. */
  ignore?: readonly string[] | undefined;
  /**
   * The folders whose Markdown and MDX files are sources. A plain Vite build never bundles Markdown, so a README's
   * example must not be planned (none, the default); Astro renders what is under its `srcDir`.
   */
  markdownRoots?: readonly string[] | undefined;
  /**
   * Directives (as written) known valid and cached without a parse (a build's hit record): listed in `recorded`,
   * not parsed. @default none
   */
  recorded?: ((raw: string) => boolean) | undefined;
  /** What earlier scans found in files that have not changed since (a build's hit record): those are not read. */
  known?: KnownSources | undefined;
  /** Where the bundler writes (absolute): skipped like `dist/`. Only folders under the root are ever skipped. */
  outDirs?: ReadonlySet<string> | undefined;
}

/**
 * Every directive under the root, parsed with the resolved defaults exactly as the plugin parses them; bad ones
 * are collected with their location, not thrown.
 */
export async function scanProject(
  options: ResolvedOptions,
  scan: ScanProjectOptions = {},
): Promise<ProjectScan> {
  const { directives: found, text } = await scanSources(options.root, {
    ignore: scan.ignore ?? [],
    skipName: neverBuilt,
    cacheDir: options.cacheDir,
    known: scan.known,
    outDirs: scan.outDirs,
  });
  const markdownRoots = (scan.markdownRoots ?? []).map((dir) => path.resolve(dir) + path.sep);
  const uses: FoundUse[] = [];
  const errors: BadDirective[] = [];
  const recorded: string[] = [];
  // Per file, worked out at its first directive: whether it is a source, and (only for a directive that is parsed)
  // where its directives are. A recorded directive needs neither its file's text nor its place in it.
  const sourceFiles = new Map<string, boolean>();
  const locators = new Map<string, ReturnType<typeof locator>>();
  for (const { raw, written, file, index } of found) {
    let isSource = sourceFiles.get(file);
    if (isSource === undefined) {
      isSource = languageOf(file) === "script" || markdownRoots.some((dir) => file.startsWith(dir));
      sourceFiles.set(file, isSource);
    }
    if (!isSource) continue;
    if (scan.recorded?.(raw)) {
      recorded.push(raw);
      continue;
    }
    let locate = locators.get(file);
    if (!locate) {
      locate = locator(text(file));
      locators.set(file, locate);
    }
    const { line, column } = locate(index);
    const as = written === undefined ? {} : { written };
    try {
      uses.push({ directive: parseDirective(raw, options), importer: file, line, column, ...as });
    } catch (error) {
      if (!GrokImageError.isInstance(error)) throw error;
      error.importer ??= file;
      errors.push({ raw, ...as, importer: file, line, column, error, source: text(file) });
    }
  }
  return { uses, errors, recorded };
}
