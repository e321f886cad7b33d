import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { parseEnv } from "node:util";
import { type ImageCache, openCache } from "../cache/image-cache.js";
import { GrokImageError } from "../errors.js";
import { remoteSecrets } from "../options/remote-cache-option.js";
import { resolveOptions } from "../options/resolve-options.js";
import { type ProjectScan, scanProject as scanProjectFiles } from "../plan/scan-project.js";
import type { GrokImageOptions, ResolvedOptions, Tier } from "../types.js";
import { type CliIO, redactSecret } from "./cli-io.js";
import {
  configKind,
  findConfigFile,
  importVite,
  loadProjectConfig,
  type ProjectConfig,
} from "./load-config.js";

/** Arguments every command that looks at a project takes. */
export interface ProjectArgs {
  /** The project root, relative to the working directory. @default the working directory */
  root?: string | undefined;
  /** The cache directory, relative to the working directory. @default the config's, else GROK_IMAGE_CACHE_DIR, else `<root>/.grok-images` */
  cacheDir?: string | undefined;
  /** Default tier of directives without `?tier=`. @default the config's `tier`, else "lite" */
  tier?: string | undefined;
  /** Globs (relative to the root) of files and directories the scan skips. */
  ignore?: readonly string[] | undefined;
  /**
   * The Vite or Astro config to read the plugin's options from, relative to the working directory; `false`
   * reads none. @default the root's `astro.config.*`, else its `vite.config.*`
   */
  config?: string | false | undefined;
  /** Machine-readable output: notes about the config are not printed. */
  json?: boolean | undefined;
}

export type { BadDirective, FoundUse, ProjectScan } from "../plan/scan-project.js";

/**
 * The options of a command, resolved as the build resolves them: the options given to the plugin in the
 * project's config, else environment variables (the shell's, then the root's `.env` files), else defaults. Flags
 * win over all of them, with a note when they contradict the config. Path flags are relative to the working
 * directory, as on any command line; the config's `cacheDir` and GROK_IMAGE_CACHE_DIR stay relative to the root.
 *
 * `flags` are options the command took from its own flags; `fixed` are the command's own settings (they beat the
 * config silently: `generate` generates even when the config says `mode: "frozen"`).
 */
export async function resolveCliOptions(
  args: ProjectArgs,
  io: CliIO,
  flags: GrokImageOptions = {},
  fixed: GrokImageOptions = {},
): Promise<ResolvedOptions> {
  const cwdRoot = path.resolve(io.cwd, args.root ?? ".");
  await checkDirectory(cwdRoot);
  const config = await readConfig(args, io, cwdRoot);
  const root = config?.root === undefined ? cwdRoot : path.resolve(cwdRoot, config.root);
  if (root !== cwdRoot) await checkDirectory(root);

  const fromFlags: GrokImageOptions = { ...flags };
  if (args.cacheDir !== undefined) fromFlags.cacheDir = path.resolve(io.cwd, args.cacheDir);
  // resolveOptions validates the value and names the accepted ones; the cast only gets it there.
  if (args.tier !== undefined) fromFlags.tier = args.tier as Tier;
  const fromConfig = config?.options ?? {};
  const user: GrokImageOptions = { ...fromConfig, ...fixed, ...fromFlags };

  const envDir = config?.envDir === false ? false : config?.envDir ? path.resolve(root, config.envDir) : root;
  const env = envDir === false ? io.env : { ...(await readDotenv(envDir)), ...io.env };
  const options = resolveOptions(user, { root, env, command: "cli" });
  markdownRoots.set(options, markdownRootsOf(config, root));
  redactSecret(io, options.apiKey);
  for (const secret of remoteSecrets(options.remoteCache)) redactSecret(io, secret);

  if (!args.json) {
    const notes = [...(config?.notes ?? [])];
    if (config?.options) notes.unshift(`using options from ${displayPath(cwdRoot, config.file)}`);
    if (config?.root !== undefined)
      notes.push(`using the root ${config.root} set in ${path.basename(config.file)}`);
    notes.push(...overrides(fromConfig, fromFlags, root));
    for (const note of notes) io.stderr.write(`${note}\n`);
  }
  return options;
}

async function checkDirectory(root: string): Promise<void> {
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new GrokImageError("GROK_BAD_OPTION", `The project root ${root} is not a directory.`, {
      hint: "Pass the folder that holds the site's sources, e.g. `grok-image scan ./site`.",
    });
  }
}

async function readConfig(args: ProjectArgs, io: CliIO, root: string): Promise<ProjectConfig | undefined> {
  if (args.config === false) return undefined;
  const file = args.config === undefined ? findConfigFile(root) : path.resolve(io.cwd, args.config);
  if (file === undefined) return undefined;
  if (args.config !== undefined && !existsSync(file)) {
    throw new GrokImageError("GROK_BAD_OPTION", `The config file ${file} (--config) does not exist.`, {
      hint: "Pass the project's vite.config.* or astro.config.*, or --no-config to read none.",
    });
  }
  const vite = await importVite();
  if (!vite) {
    return {
      file,
      kind: configKind(file),
      options: undefined,
      root: undefined,
      envDir: undefined,
      notes: [
        `vite is not installed, so ${path.basename(file)} was not read: pass the plugin's options as flags`,
      ],
    };
  }
  return loadProjectConfig(vite, file, root);
}

/** Vite's order for a build: `.env`, `.env.local`, `.env.production`, `.env.production.local`, later winning. */
const DOTENV_FILES = [".env", ".env.local", ".env.production", ".env.production.local"];

/**
 * The `.env` files the build reads (Vite loads them for the plugin). Parsed here rather than with Vite's
 * `loadEnv`, which also copies the whole process environment in and would override the environment given.
 */
async function readDotenv(dir: string): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const name of DOTENV_FILES) {
    const text = await readFile(path.join(dir, name), "utf8").catch(() => undefined);
    if (text !== undefined) Object.assign(env, parseEnv(text));
  }
  return env;
}

const FLAG_NAMES: Partial<Record<keyof GrokImageOptions, string>> = {
  tier: "--tier",
  cacheDir: "--cache-dir",
  mode: "--mode",
  concurrency: "--concurrency",
  maxCost: "--max-cost",
};

/** Notes for flags that contradict the config: allowed, but a build with the config would differ. */
function overrides(fromConfig: GrokImageOptions, fromFlags: GrokImageOptions, root: string): string[] {
  const notes: string[] = [];
  for (const [key, value] of Object.entries(fromFlags) as [keyof GrokImageOptions, unknown][]) {
    const configured = fromConfig[key];
    if (configured === undefined || key === "apiKey") continue;
    const same =
      key === "cacheDir" && typeof configured === "string"
        ? path.resolve(root, configured) === value
        : String(configured) === String(value);
    if (!same) {
      notes.push(
        `overriding the config's ${key} ${String(configured)} with ${FLAG_NAMES[key] ?? key} ${String(value)}`,
      );
    }
  }
  return notes;
}

/**
 * The folders whose Markdown the build renders, by the options `resolveCliOptions` resolved from the same config: a
 * command's scan then plans what that project's build plans.
 */
const markdownRoots = new WeakMap<ResolvedOptions, readonly string[]>();

/**
 * Markdown is the site's under an Astro project's `srcDir` (`src/` unless its config says otherwise), as the
 * integration counts it. A plain Vite project (its config is a `vite.config.*`) has none: its build does not bundle
 * a README's examples. Without a config to say, the project is taken for an Astro one with the default `srcDir`.
 */
function markdownRootsOf(config: ProjectConfig | undefined, root: string): string[] {
  const kind = config?.kind ?? kindAt(root);
  return kind === "vite" ? [] : [path.resolve(root, config?.srcDir ?? "src")];
}

function kindAt(root: string): "vite" | "astro" | undefined {
  const file = findConfigFile(root);
  return file === undefined ? undefined : configKind(file);
}

/**
 * Every directive under the root, found and parsed exactly as the build's plan finds and parses them; bad ones
 * are collected, not thrown. Markdown counts where the project's build renders it (`markdownRootsOf`).
 */
export function scanProject(options: ResolvedOptions, ignore: readonly string[] = []): Promise<ProjectScan> {
  return scanProjectFiles(options, {
    ignore,
    markdownRoots: markdownRoots.get(options) ?? markdownRootsOf(undefined, options.root),
  });
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
