import type { Logger, Plugin, ViteDevServer } from "vite";
import { loadEnv } from "vite";
import { isDirectiveId, parseDirective, stripViteQuery } from "../directive/parse-directive.js";
import { type BudgetLedger, createLedger } from "../engine/budget.js";
import { createEngine } from "../engine/create-engine.js";
import type { DirectiveUse, Engine, EngineEvent, ReadyImage } from "../engine/engine-types.js";
import { formatEvent } from "../engine/format-event.js";
import { GrokImageError } from "../errors.js";
import { resolveOptions } from "../options/resolve-options.js";
import type { Directive, GrokImageOptions, ResolvedOptions } from "../types.js";
import { type BatchScheduler, createBatchScheduler } from "./batch-scheduler.js";
import { type ImageImport, moduleCode } from "./module-code.js";
import { devUrl, reviewMiddleware } from "./review-middleware.js";
import { toPluginError } from "./to-plugin-error.js";
import { fromVirtualId, importerFile, toVirtualId } from "./virtual-id.js";

export const PLUGIN_NAME = "vite-plugin-grok-image";

/** Why a load waiting for a batch fails when its server closes first. */
const CLOSED = new Error(`${PLUGIN_NAME}: the server closed before the image was ready.`);

/** What the other modules of a refused batch settle with in a build that is failing anyway (same exports). */
const REFUSED_MODULE = 'export const images = [];\nexport const alt = "";\nexport default undefined;\n';

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

/** What tools read from the plugin found in a loaded Vite config (`plugin.api`). */
export interface GrokImagePluginApi {
  /**
   * The options the plugin was created with, as given (not resolved: environment variables and defaults are
   * applied by whoever reads them, the same way the plugin does). The `grok-image` CLI reads them from the project's
   * Vite config so that `grok-image generate` plans with exactly the options of the build.
   */
  readonly userOptions: GrokImageOptions;
}

/** What the plugin knows once Vite's config is resolved. */
interface Context {
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
): Plugin<GrokImagePluginApi> {
  const imageImport = internal.imageImport ?? "url";
  let context: Context | undefined;
  let engine: Engine | undefined;
  /** Plans the `grok:` uses the module graph reaches, in batches; lives as long as the engine. */
  let scheduler: BatchScheduler | undefined;
  /**
   * What this build has committed to spend, shared by every batch and every environment of the build so `maxCost`
   * bounds the build. Replaced by the first config a new build resolves once an environment has finished.
   */
  let ledger: BudgetLedger | undefined;
  let ledgerFinished = false;
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
    const budget = need().command === "build" ? ledger : undefined;
    engine ??= createEngine(need().options, {
      onEvent: log,
      signal: stop.signal,
      ...(budget ? { budget } : {}),
    });
    return engine;
  };
  const getScheduler = (): BatchScheduler => {
    scheduler ??= createBatchScheduler((uses) => getEngine().prepare(uses));
    return scheduler;
  };
  /** Batch errors already reported: every load of a refused batch gets the same one. */
  const reported = new WeakSet<object>();

  const parse = (raw: string, importer: string | undefined): Directive => {
    const { options } = need();
    try {
      return parseDirective(raw, options);
    } catch (error) {
      if (GrokImageError.isInstance(error) && importer) error.importer ??= importer;
      throw error;
    }
  };

  return {
    name: PLUGIN_NAME,
    // Before vite:resolve, so `grok:` never reaches the file-system resolver (it would look like a URL scheme).
    enforce: "pre",
    api: { userOptions },

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
      context = { options, logger: config.logger, command };
      // Vite and Astro resolve one config per environment before building any; a later build with this plugin
      // instance (a second `build()` call) resolves again after one finished, and gets a budget of its own.
      if (command === "build" && (!ledger || ledgerFinished)) {
        ledger = createLedger();
        ledgerFinished = false;
      }
      // The cache may live outside the served roots (GROK_IMAGE_CACHE_DIR=/ci/cache): let the dev server read it.
      const allow = config.server.fs.allow as string[];
      const cacheDir = options.cacheDir.replaceAll("\\", "/");
      if (!allow.some((dir) => cacheDir === dir || cacheDir.startsWith(`${dir.replace(/\/$/, "")}/`))) {
        allow.push(cacheDir);
      }
    },

    resolveId: {
      filter: { id: /^grok:/ },
      handler(source, importer) {
        if (!isDirectiveId(source)) return null;
        const raw = stripViteQuery(source);
        const file = importerFile(importer);
        let directive: Directive;
        try {
          directive = parse(raw, file);
        } catch (error) {
          this.error(toPluginError(error));
        }
        const id = toVirtualId(raw, directive.generation.prompt);
        if (file && !importers.has(id)) importers.set(id, file);
        // Only what the module graph reaches is ever planned: a directive in a file nothing imports costs nothing.
        getScheduler().record({ directive, importer: file });
        return id;
      },
    },

    load: {
      // No id filter: every module that enters the graph keeps an open settle window open (see BatchScheduler).
      async handler(id) {
        const raw = fromVirtualId(id);
        if (raw === undefined) {
          scheduler?.touch();
          return null;
        }
        const importer = importers.get(id);
        const { command } = need();
        let use: DirectiveUse;
        try {
          // An id the browser still holds after a restart is loaded without being resolved first: this records it.
          use = { directive: parse(raw, importer), importer };
        } catch (error) {
          this.error(toPluginError(error, importer));
        }
        if (command === "serve" && fallbackWarning) {
          write("warn", fallbackWarning);
          fallbackWarning = undefined;
        }
        const refused = await getScheduler()
          .ready(use)
          .then(
            () => undefined,
            (error: unknown) =>
              typeof error === "object" && error !== null ? error : new Error(String(error)),
          );
        if (refused === CLOSED) this.error(toPluginError(refused));
        if (refused !== undefined) {
          // A refused batch (frozen misses, budget, no key) has one report that lists every directive and where it
          // is used, so no single importer is added to it, and it is said once, not once per module of the batch.
          const first = !reported.has(refused);
          reported.add(refused);
          if (command === "build") {
            if (first) this.error(toPluginError(refused));
            // The build fails on the report above; the other modules of the batch only need to settle.
            return { code: REFUSED_MODULE, moduleType: "js" };
          }
          // A dev server goes on: each directive's own check below serves the cached ones and fails only its own.
          if (first) write("error", toPluginError(refused).message);
        }
        try {
          const images = await getEngine().images(use);
          loaded.set(use.directive.raw, images);
          return {
            code: moduleCode(images, use.directive.generation.prompt, imageImport, command === "build"),
            moduleType: "js",
          };
        } catch (error) {
          this.error(toPluginError(error, importer));
        }
      },
    },

    configureServer(server: ViteDevServer) {
      const { root, cacheDir } = need().options;
      server.middlewares.use(
        reviewMiddleware(() =>
          (engine?.statuses() ?? []).map((status) => ({
            status,
            imageUrls: (loaded.get(status.raw) ?? []).map((image) => devUrl(image.file, root)),
          })),
        ),
      );
      // Writing the cache (placeholders, variants) must never look like a source change to the watcher.
      server.watcher.unwatch(cacheDir);
    },

    async closeBundle() {
      // In a build everything is done by now. A dev server closing (or restarting) stops the work still in
      // flight: submitted tasks stay in the pending journal, so the next start resumes them without paying again.
      const closing = engine;
      const running = scheduler;
      // Only a closing dev server aborts: a build's work is complete here, and aborting it would turn paid,
      // finished tasks into failures.
      if (need().command === "serve") stop.abort();
      else ledgerFinished = true;
      stop = new AbortController();
      engine = undefined;
      scheduler = undefined;
      loaded.clear();
      await running?.stop(CLOSED);
      await closing?.close();
    },
  };
}

export default grokImage;
