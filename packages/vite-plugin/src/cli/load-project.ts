import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { type ImageCache, openCache } from "../cache/image-cache.js";
import { parseDirective } from "../directive/parse-directive.js";
import { scanTree } from "../directive/scan-source.js";
import type { DirectiveUse } from "../engine/engine-types.js";
import { GrokImageError } from "../errors.js";
import { resolveOptions } from "../options/resolve-options.js";
import type { Directive, GrokImageOptions, ResolvedOptions, Tier } from "../types.js";
import type { CliIO } from "./cli-io.js";

/** Arguments every command that looks at a project takes. */
export interface ProjectArgs {
  /** The project root, relative to the working directory. @default the working directory */
  root?: string | undefined;
  /** The cache directory, relative to the working directory. @default GROK_IMAGE_CACHE_DIR, else `<root>/.grok-images` */
  cacheDir?: string | undefined;
  /** Default tier of directives without `?tier=`; must match the plugin's `tier` option. @default "lite" */
  tier?: string | undefined;
  /** Globs (relative to the root) of files and directories the scan skips. */
  ignore?: readonly string[] | undefined;
}

/** A directive use found in the tree; the importer is always known. */
export interface FoundUse extends DirectiveUse {
  readonly importer: string;
  /** 1-based line of the directive in its file. */
  readonly line: number;
}

/** A directive that did not parse. */
export interface BadDirective {
  readonly raw: string;
  readonly importer: string;
  readonly line: number;
  readonly error: GrokImageError;
}

export interface ProjectScan {
  readonly uses: FoundUse[];
  readonly errors: BadDirective[];
}

/**
 * The options of a command: flags win over environment variables, which win over defaults, exactly as in the
 * plugin. Path flags are relative to the working directory, as on any command line; GROK_IMAGE_CACHE_DIR stays
 * relative to the root, as the plugin reads it.
 */
export async function resolveCliOptions(
  args: ProjectArgs,
  io: CliIO,
  extra: GrokImageOptions = {},
): Promise<ResolvedOptions> {
  const root = path.resolve(io.cwd, args.root ?? ".");
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new GrokImageError("GROK_BAD_OPTION", `The project root ${root} is not a directory.`, {
      hint: "Pass the folder that holds the site's sources, e.g. `grok-image scan ./site`.",
    });
  }
  const user: GrokImageOptions = { ...extra };
  if (args.cacheDir !== undefined) user.cacheDir = path.resolve(io.cwd, args.cacheDir);
  // resolveOptions validates the value and names the accepted ones; the cast only gets it there.
  if (args.tier !== undefined) user.tier = args.tier as Tier;
  return resolveOptions(user, { root, env: io.env, command: "cli" });
}

/** Defaults a directive falls back to, as the plugin passes them. */
export function directiveDefaults(options: ResolvedOptions, tier: Tier = options.tier) {
  return { tier, format: options.format, quality: options.quality };
}

/** Every directive under the root, parsed with the resolved defaults; bad ones are collected, not thrown. */
export async function scanProject(
  options: ResolvedOptions,
  ignore: readonly string[] = [],
): Promise<ProjectScan> {
  const found = await scanTree(options.root, { ignore, cacheDir: options.cacheDir });
  const lines = await lineFinder(found.map((f) => f.file));
  const uses: FoundUse[] = [];
  const errors: BadDirective[] = [];
  for (const { raw, file, index } of found) {
    const line = lines(file, index);
    try {
      const directive: Directive = parseDirective(raw, directiveDefaults(options));
      uses.push({ directive, importer: file, line });
    } catch (error) {
      if (!GrokImageError.isInstance(error)) throw error;
      error.importer ??= file;
      errors.push({ raw, importer: file, line, error });
    }
  }
  return { uses, errors };
}

/** Maps a character offset to a 1-based line, reading each file that has directives once more. */
async function lineFinder(files: readonly string[]): Promise<(file: string, index: number) => number> {
  const starts = new Map<string, number[]>();
  for (const file of new Set(files)) {
    const text = await readFile(file, "utf8").catch(() => "");
    const offsets = [0];
    for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) offsets.push(i + 1);
    starts.set(file, offsets);
  }
  return (file, index) => {
    const offsets = starts.get(file) ?? [0];
    let low = 0;
    let high = offsets.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((offsets[mid] as number) <= index) low = mid;
      else high = mid - 1;
    }
    return low + 1;
  };
}

/**
 * Opens the cache only when it exists: read-only commands (scan, verify, prune, gallery) must not create a
 * `.grok-images/` folder in a project that has none.
 */
export async function openExistingCache(options: ResolvedOptions): Promise<ImageCache | undefined> {
  if (!existsSync(options.cacheDir)) return undefined;
  return openCache(options.cacheDir);
}

/** A path as the user reads it: relative to the root, `/`-separated. */
export function displayPath(root: string, file: string): string {
  const rel = path.relative(root, file);
  return (rel.startsWith("..") || path.isAbsolute(rel) ? file : rel).split(path.sep).join("/");
}

/** The first 8 hex digits: enough to tell entries apart in a listing, as git does with commits. */
export function shortKey(key: string): string {
  return key.slice(0, 8);
}
