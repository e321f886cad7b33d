import path from "node:path";
import type { Logger, Plugin, ResolvedConfig, ViteDevServer } from "vite";
import { loadEnv } from "vite";
import { isDirectiveId, parseDirective, stripViteQuery } from "../directive/parse-directive.js";
import { scanTree } from "../directive/scan-source.js";
import { createEngine } from "../engine/create-engine.js";
import type { DirectiveUse, Engine, EngineEvent, ReadyImage } from "../engine/engine-types.js";
import { formatEvent } from "../engine/format-event.js";
import { GrokImageError } from "../errors.js";
import { resolveOptions } from "../options/resolve-options.js";
import type { Directive, GrokImageOptions, ResolvedOptions } from "../types.js";
import { type ImageImport, moduleCode } from "./module-code.js";
import { devUrl, reviewMiddleware } from "./review-middleware.js";
import { toPluginError } from "./to-plugin-error.js";
import { fromVirtualId, toVirtualId, VIRTUAL_ID_FILTER } from "./virtual-id.js";

export const PLUGIN_NAME = "vite-plugin-grok-image";

/**
 * Host integration settings. Internal on purpose: the Astro integration sets them; Vite users never need to.
 */
export interface GrokImageInternalOptions {
  /** How the default export is built from the variant file. @default "url" */
  imageImport?: ImageImport;
  /**
   * The host's logger (Astro's integration logger). Lines are written without the "[grok-image]" prefix: the
   * host labels them itself. @default Vite's `config.logger`
   */
  logger?: HostLogger;
}

export interface HostLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** What the plugin knows once Vite's config is resolved. */
interface Context {
  readonly config: ResolvedConfig;
  readonly options: ResolvedOptions;
  readonly logger: Logger;
  readonly command: "build" | "serve";
}

/**
 * The Vite plugin: `import forest from "grok:a misty forest?tier=pro"` gives an optimized, cached image.
 *
 * @example
 * // vite.config.ts
 * import { grokImage } from "vite-plugin-grok-image";
 * export default { plugins: [grokImage({ tier: "standard" })] };
 */
export function grokImage(
  userOptions: GrokImageOptions = {},
  internal: GrokImageInternalOptions = {},
): Plugin {
  const imageImport = internal.imageImport ?? "url";
  let context: Context | undefined;
  let engine: Engine | undefined;
  /** The batch of the project scan; loads wait for it so no key is planned twice. */
  let batch: Promise<unknown> | undefined;
  /** First importer seen per virtual id, for error messages. */
  const importers = new Map<string, string>();
  /** The images each directive loaded, for the review page. */
  const loaded = new Map<string, readonly ReadyImage[]>();

  const need = (): Context => {
    if (!context) throw new Error(`${PLUGIN_NAME}: used before Vite resolved its config.`);
    return context;
  };

  /** `vite preview` resolves the config too, as a "serve". */
  let isPreview = false;
  /** Set when the dev server fell back to placeholders for want of a key; that one warning covers every miss. */
  let keylessFallback = false;
  let fallbackWarning: string | undefined;

  /** Set once an all-cached batch has been reported: later environments of the same build repeat it silently. */
  let reportedAllCached = false;
  const warned = new Set<string>();

  const write = (level: "info" | "warn" | "error", line: string) => {
    if (internal.logger) internal.logger[level](line);
    else need().logger[level](`[grok-image] ${line}`, { timestamp: true });
  };

  const log = (event: EngineEvent) => {
    const line = formatEvent(event);
    if (line === undefined) return;
    // Vite and Astro build several environments (client, ssr, prerender) with one plugin instance; each runs the
    // batch again, all cached after the first. One report of that is enough.
    const allCached =
      (event.type === "plan" && event.misses === 0) ||
      (event.type === "summary" &&
        event.summary.generated + event.summary.failed + event.summary.placeholders === 0);
    if (allCached && reportedAllCached) return;
    // Likewise "this directive uses a placeholder" is said once, not once per environment.
    if (event.type === "warn" && event.reason === "placeholder") {
      if (warned.has(event.message)) return;
      warned.add(event.message);
    }
    if (event.type === "summary" && allCached) reportedAllCached = true;
    const covered = keylessFallback && event.type === "warn" && event.reason === "placeholder";
    write(event.type === "warn" && !covered ? "warn" : "info", line);
  };

  // Created lazily and closed at the end of each build: Vite (and Astro) build several environments one after
  // the other with the same plugin instance, and each needs a live engine.
  let stop = new AbortController();
  const getEngine = (): Engine => {
    engine ??= createEngine(need().options, { onEvent: log, signal: stop.signal });
    return engine;
  };

  const parse = (raw: string, importer: string | undefined): Directive => {
    const { options } = need();
    try {
      return parseDirective(raw, options);
    } catch (error) {
      if (GrokImageError.isInstance(error) && importer) error.importer ??= importer;
      throw error;
    }
  };

  /** Every directive in the project's source, as one batch (dedupe, mode, budget and concurrency apply to all). */
  const prepareAll = async (): Promise<void> => {
    const { options, config } = need();
    const outDir = path.relative(options.root, path.resolve(options.root, config.build.outDir));
    const inRoot = outDir !== "" && !outDir.startsWith("..") && !path.isAbsolute(outDir);
    const found = await scanTree(options.root, {
      cacheDir: options.cacheDir,
      ignore: inRoot ? [outDir.split(path.sep).join("/")] : [],
    });
    const uses: DirectiveUse[] = [];
    for (const { raw, file } of found) {
      try {
        uses.push({ directive: parse(raw, file), importer: file });
      } catch {
        // A bad directive in a file the build never imports must not fail the build; one that is imported
        // fails in resolveId, naming its importer.
      }
    }
    await getEngine().prepare(uses);
  };

  return {
    name: PLUGIN_NAME,
    // Before vite:resolve, so `grok:` never reaches the file-system resolver (it would look like a URL scheme).
    enforce: "pre",

    config(_config, env) {
      isPreview = env.isPreview === true;
    },

    configResolved(config) {
      const command = config.command;
      // `.env` files feed the options like the shell does (MAXAPI_KEY, GROK_IMAGE_MODE...), the shell winning.
      const env =
        config.envDir === false
          ? process.env
          : { ...loadEnv(config.mode, config.envDir, ""), ...process.env };
      const options = resolveOptions(userOptions, {
        root: config.root,
        env,
        command,
        // `vite preview` only serves a finished build: nothing to warn about.
        // Said when the first `grok:` module loads, not now: `vite preview` and Astro's `sync` server resolve the
        // config too, and never generate anything.
        onWarning: (message) => {
          keylessFallback = true;
          fallbackWarning = isPreview ? undefined : message;
        },
      });
      context = { config, options, logger: config.logger, command };
      // The cache may live outside the served roots (GROK_IMAGE_CACHE_DIR=/ci/cache): let the dev server read it.
      const allow = config.server.fs.allow as string[];
      const cacheDir = options.cacheDir.replaceAll("\\", "/");
      if (!allow.some((dir) => cacheDir === dir || cacheDir.startsWith(`${dir.replace(/\/$/, "")}/`))) {
        allow.push(cacheDir);
      }
    },

    async buildStart() {
      if (need().command === "build") {
        try {
          await prepareAll();
        } catch (error) {
          this.error(toPluginError(error));
        }
        return;
      }
      // Dev: nothing yet. The first `grok:` load starts the project batch. A server that never loads one (Astro's
      // `sync` spins up a short-lived Vite server and closes it) must never submit paid work it would then abort.
    },

    resolveId: {
      filter: { id: /^grok:/ },
      handler(source, importer) {
        if (!isDirectiveId(source)) return null;
        const raw = stripViteQuery(source);
        let directive: Directive;
        try {
          directive = parse(raw, importer);
        } catch (error) {
          this.error(toPluginError(error));
        }
        const id = toVirtualId(raw, directive.generation.prompt);
        if (importer && !importers.has(id)) importers.set(id, importer);
        return id;
      },
    },

    load: {
      filter: { id: VIRTUAL_ID_FILTER },
      async handler(id) {
        const raw = fromVirtualId(id);
        if (raw === undefined) return null;
        const importer = importers.get(id);
        try {
          const directive = parse(raw, importer);
          if (need().command === "serve") {
            if (fallbackWarning) write("warn", fallbackWarning);
            fallbackWarning = undefined;
            batch ??= prepareAll().catch((error: unknown) => {
              write("error", toPluginError(error).message);
            });
          }
          await batch;
          const images = await getEngine().images({ directive, importer });
          loaded.set(directive.raw, images);
          const noInline = need().command === "build";
          return {
            code: moduleCode(images, directive.generation.prompt, imageImport, noInline),
            moduleType: "js",
          };
        } catch (error) {
          this.error(toPluginError(error, importer));
        }
      },
    },

    configureServer(server: ViteDevServer) {
      const { root } = need().options;
      server.middlewares.use(
        reviewMiddleware(() =>
          (engine?.statuses() ?? []).map((status) => ({
            status,
            imageUrls: (loaded.get(status.raw) ?? []).map((image) => devUrl(image.file, root)),
          })),
        ),
      );
      // Writing the cache (placeholders, variants) must never look like a source change to the watcher.
      server.watcher.unwatch(need().options.cacheDir);
    },

    async closeBundle() {
      // In a build everything is done by now. A dev server closing (or restarting) stops the work still in
      // flight: submitted tasks stay in the pending journal, so the next start resumes them without paying again.
      const closing = engine;
      const running = batch;
      // Only a closing dev server aborts: a build's work is complete here, and aborting it would turn paid,
      // finished tasks into failures.
      if (need().command === "serve") stop.abort();
      stop = new AbortController();
      engine = undefined;
      batch = undefined;
      loaded.clear();
      await running;
      await closing?.close();
    },
  };
}

export default grokImage;
