import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { stripVTControlCharacters } from "node:util";
import { GrokImageError } from "../errors.js";
import type { GrokImageOptions } from "../types.js";
import type { GrokImagePluginApi } from "../vite/plugin.js";

/** Vite's own search order. */
const VITE_CONFIG_FILES = [
  "vite.config.js",
  "vite.config.mjs",
  "vite.config.ts",
  "vite.config.cjs",
  "vite.config.mts",
  "vite.config.cts",
] as const;

/** Astro's own search order. */
const ASTRO_CONFIG_FILES = [
  "astro.config.mjs",
  "astro.config.js",
  "astro.config.ts",
  "astro.config.mts",
] as const;

/**
 * `name` of the Vite plugin (`PLUGIN_NAME`) and of the Astro integration, as they register themselves. Not
 * imported: the plugin module imports `vite`, which the CLI must run without, and the integration depends on this
 * package, not the other way round.
 */
export const VITE_PLUGIN_NAME = "vite-plugin-grok-image";
export const ASTRO_INTEGRATION_NAME = "astro-grok-image";

/** What the CLI takes from a project's `vite.config.*` or `astro.config.*`. */
export interface ProjectConfig {
  /** Absolute path of the config file read. */
  readonly file: string;
  readonly kind: "vite" | "astro";
  /** The options given to `grokImage()` in the config; undefined when they could not be read (see `notes`). */
  readonly options: GrokImageOptions | undefined;
  /** The config's `root`, as the build resolves it (against the working directory of the build). */
  readonly root: string | undefined;
  /** The config's `envDir` (`false`: no `.env` files), relative to the root. */
  readonly envDir: string | false | undefined;
  /** An Astro config's `srcDir`, relative to the root: the Markdown under it is the site's. */
  readonly srcDir?: string | undefined;
  /** Why options or settings were not taken from the config, to print as notes. */
  readonly notes: readonly string[];
}

type ViteModule = typeof import("vite");

/** Vite is an optional peer dependency: a project without it has no config the CLI could read anyway. */
export async function importVite(): Promise<ViteModule | undefined> {
  try {
    return await import("vite");
  } catch {
    return undefined;
  }
}

/**
 * The config a build of `root` would use: `astro.config.*` first (an Astro project may keep a `vite.config.*` for
 * other tools, and `astro build` ignores it), then `vite.config.*`.
 */
export function findConfigFile(root: string): string | undefined {
  for (const name of [...ASTRO_CONFIG_FILES, ...VITE_CONFIG_FILES]) {
    const file = path.join(root, name);
    if (existsSync(file)) return file;
  }
  return undefined;
}

/** An `astro.config.*` is read for the integration; any other file as a Vite config. */
export function configKind(file: string): "vite" | "astro" {
  return path.basename(file).startsWith("astro.config") ? "astro" : "vite";
}

/**
 * Loads a config file the way the build does (Vite's `loadConfigFromFile`, command `build`, mode `production`)
 * and reads the options given to the grok-image plugin or integration in it.
 */
export async function loadProjectConfig(
  vite: ViteModule,
  file: string,
  root: string,
): Promise<ProjectConfig> {
  const kind = configKind(file);
  let loaded: Awaited<ReturnType<ViteModule["loadConfigFromFile"]>>;
  try {
    // "silent": Vite would otherwise print the failure itself, with a code frame that may show an apiKey.
    loaded = await vite.loadConfigFromFile({ command: "build", mode: "production" }, file, root, "silent");
  } catch (error) {
    throw new GrokImageError("GROK_BAD_OPTION", `Could not load ${file}: ${loadFailure(error)}`, {
      hint: "Fix the config so the build can load it, or pass --no-config and give the options as flags.",
    });
  }
  const config = (loaded?.config ?? {}) as Record<string, unknown>;
  const notes: string[] = [];
  const name = path.basename(file);
  let options: GrokImageOptions | undefined;
  let envDir: unknown;
  if (kind === "vite") {
    envDir = config.envDir;
    const plugin = (await flatten(config.plugins)).find((p) => nameOf(p) === VITE_PLUGIN_NAME);
    if (!plugin) notes.push(`${name} does not use ${VITE_PLUGIN_NAME}: its options were not read`);
    else options = readOptions(plugin, "api", notes, name, VITE_PLUGIN_NAME);
  } else {
    envDir = (config.vite as Record<string, unknown> | undefined)?.envDir;
    const integration = (await flatten(config.integrations)).find(
      (i) => nameOf(i) === ASTRO_INTEGRATION_NAME,
    );
    if (!integration) notes.push(`${name} does not use ${ASTRO_INTEGRATION_NAME}: its options were not read`);
    else options = readOptions(integration, "options", notes, name, ASTRO_INTEGRATION_NAME);
  }
  const srcDir = config.srcDir instanceof URL ? fileURLToPath(config.srcDir) : config.srcDir;
  return {
    file,
    kind,
    options,
    root: typeof config.root === "string" ? config.root : undefined,
    envDir: envDir === false || typeof envDir === "string" ? envDir : undefined,
    ...(kind === "astro" && typeof srcDir === "string" ? { srcDir } : {}),
    notes,
  };
}

/**
 * The first line of the bundler's first error. Not the rest: a code frame of the config, which may hold a key.
 * Not its position either: it counts in the config as Vite rewrote it, which shifts the first line.
 */
function loadFailure(error: unknown): string {
  const first = (error as { errors?: Array<{ message?: unknown }> }).errors?.[0];
  const message = String(first?.message ?? (error instanceof Error ? error.message : error));
  return stripVTControlCharacters(message).trim().split("\n")[0] ?? "";
}

/** `plugins` and `integrations` may nest arrays, hold promises, and use falsy values for "off". */
async function flatten(value: unknown): Promise<unknown[]> {
  const item = await value;
  if (!item) return [];
  if (!Array.isArray(item)) return [item];
  const out: unknown[] = [];
  for (const child of item) out.push(...(await flatten(child)));
  return out;
}

function nameOf(value: unknown): unknown {
  return typeof value === "object" && value !== null ? (value as { name?: unknown }).name : undefined;
}

/**
 * The Vite plugin exposes its options as `api.userOptions`; the Astro integration as `options`. An older
 * version exposes neither: say so rather than guess.
 */
function readOptions(
  owner: unknown,
  where: "api" | "options",
  notes: string[],
  file: string,
  packageName: string,
): GrokImageOptions | undefined {
  const o = owner as { api?: Partial<GrokImagePluginApi>; options?: unknown };
  const options = where === "api" ? o.api?.userOptions : o.options;
  if (typeof options === "object" && options !== null) return { ...(options as GrokImageOptions) };
  notes.push(
    `this version of ${packageName} does not expose its options, so those in ${file} were not read; ` +
      "pass them as flags (--tier, --cache-dir...) or update the package",
  );
  return undefined;
}
