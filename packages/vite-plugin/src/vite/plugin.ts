import { hash } from "node:crypto";
import path from "node:path";
import type { Logger, Plugin, ViteDevServer } from "vite";
import { loadEnv } from "vite";
import { recordUsedKeys } from "../cache/used-keys.js";
import { badDirectivesError } from "../directive/bad-directives-error.js";
import { isDirectiveId, parseDirective, stripViteQuery } from "../directive/parse-directive.js";
import { type BudgetLedger, createLedger } from "../engine/budget.js";
import { createEngine } from "../engine/create-engine.js";
import { placeholderImages } from "../engine/derive-images.js";
import type { DirectiveUse, Engine, EngineEvent, ReadyImage } from "../engine/engine-types.js";
import { formatEvent, formatUsd } from "../engine/format-event.js";
import { GrokImageError } from "../errors.js";
import { hideApiKey } from "../options/api-key.js";
import { DEV_MAX_COST_USD, resolveOptions } from "../options/resolve-options.js";
import { type ProjectScan, scanProject } from "../plan/scan-project.js";
import { type WrittenDirectives, writtenDirectives } from "../plan/written-directives.js";
import { importerFile } from "../shared/importer-file.js";
import type { Directive, GrokImageOptions, OutputShape, ResolvedOptions } from "../types.js";
import type { OverlayError } from "../workbench/dev-loop.js";
import type { DevSession } from "../workbench/dev-session.js";
import { DEV_CLIENT_ID } from "../workbench/protocol.js";
import type { WaitingKind } from "../workbench/waiting-images.js";
import { CACHED_FILE, cachedFileId } from "./cached-file-id.js";
import { forHost, handoffFor, hostEncodeNotice } from "./host-handoff.js";
import { type InlinedModule, inlineDirectives } from "./inline-directives.js";
import { locateDirective } from "./locate-directive.js";
import {
  type ImageImport,
  type ModuleParts,
  moduleCode,
  moduleParts,
  REFUSED_PARTS,
  writeModule,
} from "./module-code.js";
import { toPluginError } from "./to-plugin-error.js";
import { fromVirtualId, toVirtualId } from "./virtual-id.js";

export const PLUGIN_NAME = "vite-plugin-grok-image";

/**
 * Stands in for every directive a dev server is asked for that no project file holds. Made on first use: the first
 * parse of a directive in a process costs 1 to 2 ms (everything it calls runs for the first time), a cached build
 * parses no other, and made as the module loaded it was most of what evaluating the plugin's modules cost.
 */
let notWrittenParsed: Directive | undefined;
const notWrittenDirective = (): Directive =>
  (notWrittenParsed ??= parseDirective("grok:not written in the project", {
    tier: "lite",
    format: "webp",
    quality: 80,
  }));
/** Warnings about such requests before the dev server stops naming them. */
const MAX_NOT_WRITTEN_WARNINGS = 20;

/** The dev client's resolved id: virtual, so no optimizer or file plugin ever touches it. */
const DEV_CLIENT_RESOLVED = `\0${DEV_CLIENT_ID}`;

/** What a refused miss loads as in a build that fails at its end with one report of them all (same exports). */
const REFUSED_MODULE = writeModule(REFUSED_PARTS);

/**
 * Host integration settings. Internal on purpose: the Astro integration sets them; Vite users never need to.
 */
export interface GrokImageInternalOptions {
  /** How the default export is built from the variant file. @default "url" */
  imageImport?: ImageImport;
  /**
   * Folders whose Markdown and MDX files are sources the plan scans (Astro's `srcDir`); a plain Vite build never
   * bundles a README's examples. @default none
   */
  markdownRoots?: readonly string[];
  /**
   * The host's logger (Astro's integration logger). Lines are written without the "[grok-image]" prefix: the
   * host labels them itself. @default Vite's `config.logger`
   */
  logger?: HostLogger;
  /**
   * Who puts the dev client (the script that swaps waiting images in place) into pages: `"vite"`, the `grok:`
   * module that shows a waiting image imports it; `"astro"`, the integration injects it into every page (its
   * `grok:` modules run on the server). Astro also prints the workbench's URL itself. @default "vite"
   */
  host?: "vite" | "astro";
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
  /** What the options were resolved from (command, mode, env folder, root). */
  readonly resolution: string;
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
  /**
   * The build's plan: the project scanned, every directive validated and priced, mode and budget checked, before
   * the first submit. Made once per build (shared by its environments) or per dev server.
   */
  let planned: Promise<PlanIndex> | undefined;
  /**
   * What this build has committed to spend, shared by every batch and every environment of the build so `maxCost`
   * bounds the build. Replaced by the first config a new build resolves once an environment has finished.
   */
  let ledger: BudgetLedger | undefined;
  let ledgerFinished = false;
  /** What the dev server has committed to spend since it started (its budget, and the workbench's "spent"). */
  let devLedger = createLedger();
  /** The dev loop and workbench of the running dev server. */
  let session: DevSession | undefined;
  /** Whether loads answer at once with waiting images (a dev server with pages), rather than wait for the image. */
  let devLoop = false;
  const host = internal.host ?? "vite";
  /**
   * First importer seen per directive as written, for error messages. Keyed by the directive, not the id: Astro's
   * content layer loads a Markdown image's id with a query of its own appended.
   */
  const importers = new Map<string, string>();
  /** Every folder the bundler writes to (`build.outDir` of each environment): the scan skips them like `dist/`. */
  const outDirs = new Set<string>();
  /** Generation keys the current build loaded, in all its environments: `grok-image prune` keeps them. */
  let usedKeys = new Set<string>();
  /** How many of them the record holds as this build's whole set (`recordUsedKeys` with `complete`), once it does. */
  let usedRecorded = 0;
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
    session?.loop.onEvent(event);
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

  // One engine per build, shared by the environments Vite and Astro build one after the other with this plugin
  // instance (its client is closed after each and reopens on demand); one per dev server.
  let stop = new AbortController();
  const getEngine = (): Engine => {
    const budget = need().command === "build" ? ledger : devLedger;
    engine ??= createEngine(need().options, {
      onEvent: log,
      signal: stop.signal,
      hitRecord: need().command === "build",
      ...(budget ? { budget } : {}),
    });
    return engine;
  };
  const getPlan = (): Promise<PlanIndex> => {
    planned ??= makePlan(getEngine(), internal.markdownRoots ?? [], outDirs, need().command === "serve");
    return planned;
  };
  /**
   * A build's plan, or undefined when it may not be followed: a bad directive anywhere in the project, or a plan that
   * cannot be made (a shared cache that cannot be read). Such a build uses no directive: each one loads as a refused
   * module, and buildEnd fails the build with the plan's one report, as it does for refusals. Nothing is paid, and
   * the bundler was never held up waiting for the plan.
   */
  const followablePlan = async (): Promise<PlanIndex | undefined> => {
    const plan = await getPlan().catch(() => undefined);
    return plan?.error === undefined ? plan : undefined;
  };
  /** The plan's scan errors, said once per dev server. */
  let scanErrorsShown = false;
  /** Lines a dev server says once, however often a page asks (a flood of requests must not flood the log). */
  const said = new Set<string>();
  const sayOnce = (level: "warn" | "error", line: string) => {
    if (said.has(line)) return;
    said.add(line);
    write(level, line);
  };
  let notWrittenCount = 0;
  const notWritten = (use: DirectiveUse) => {
    notWrittenCount++;
    if (notWrittenCount > MAX_NOT_WRITTEN_WARNINGS) return;
    const from = use.importer
      ? `imported by ${use.importer}`
      : "requested directly, not by a module of the project";
    sayOnce(
      "warn",
      notWrittenCount === MAX_NOT_WRITTEN_WARNINGS
        ? `${notWrittenCount} requests for directives written in no project file were answered with a placeholder; further ones are not logged.`
        : `${use.directive.raw} (${from}) is written in no file of the project: the dev server answers with a placeholder and pays nothing. Write the directive in a source file to generate it.`,
    );
  };
  /** The dev budget's own words when it is spent: the user may never have set `maxCost`. */
  const devRefusal = (error: unknown): string => {
    const message = toPluginError(error).message;
    if (!GrokImageError.isInstance(error) || error.code !== "GROK_BUDGET_EXCEEDED") return message;
    const { maxCost } = need().options;
    return `${message}\n  The dev server spends at most ${formatUsd(maxCost ?? 0)} per start (maxCost${userOptions.maxCost === undefined ? `, ${formatUsd(DEV_MAX_COST_USD)} unless set` : ""}); the page shows placeholders for what is left. Restart the dev server for a new budget, or raise maxCost / GROK_IMAGE_MAX_COST.`;
  };

  const parse = (raw: string, importer: string | undefined): Directive => {
    const { options } = need();
    try {
      return forHost(parseDirective(raw, options), imageImport);
    } catch (error) {
      if (GrokImageError.isInstance(error) && importer) error.importer ??= importer;
      throw error;
    }
  };
  /**
   * In a build, the parts of the module a directive would load as, for its importer to hold (inline-directives.ts),
   * exactly as `load` makes it: generated or cached, or refused. Undefined keeps the import (a directive the plan
   * did not validate), which then resolves and loads as before; a failure throws, as `load` would.
   */
  const inlineModuleParts = async (source: string, importer: string): Promise<ModuleParts | undefined> => {
    if (!isDirectiveId(source)) return undefined;
    const raw = stripViteQuery(source);
    const current = getEngine();
    // What the last build loaded it as, while everything it was made from holds: no parse, no cache opened.
    const recorded = await current.recordedImages(raw, (as) => handoffFor(imageImport, as));
    if (recorded) {
      usedKeys.add(recorded.key);
      return partsOf(recorded.images, { raw, ...recorded });
    }
    const file = importerFile(importer);
    let directive: Directive;
    try {
      directive = parse(raw, file);
    } catch {
      // The import stays, and fails the build with every other bad directive of the plan.
      return undefined;
    }
    const key = directive.generationKey;
    let images: ReadyImage[] | undefined;
    try {
      // A cached image is written in at once: nothing can be paid, so it does not wait for the plan, and the
      // bundler reaches the page's images sooner. Anything else waits for the plan, which may refuse it.
      images = await current.cachedImages({ directive, importer: file });
      if (!images) {
        const plan = await followablePlan();
        if (!plan) return REFUSED_PARTS;
        images = await current.images({ directive, importer: file, ...plan.locate(file, key) });
      }
    } catch (error) {
      if (current.isRefused(key)) return REFUSED_PARTS;
      throw await located(error, directive.raw, file);
    }
    usedKeys.add(directive.generationKey);
    return partsOf(images, { ...directive, as: directive.output.as });
  };
  /** The notice a directive's encode parameters call for in Astro, once. */
  const noticeEncode = (directive: Pick<Directive, "raw" | "handoff">) => {
    const encodeNotice = hostEncodeNotice(directive);
    if (encodeNotice) sayOnce("warn", encodeNotice);
  };
  /** An inlined directive's module parts, and the notice its encode parameters call for in Astro. */
  const partsOf = (
    images: readonly ReadyImage[],
    directive: Pick<Directive, "raw" | "handoff" | "alt" | "pick"> & { as: OutputShape },
  ): ModuleParts => {
    noticeEncode(directive);
    return moduleParts(images, directive.alt, imageImport, true, { pick: directive.pick, as: directive.as });
  };
  /**
   * A dev server's error as the overlays show it: with the file, line and column of the directive and a code
   * frame, read from the file now (a build reports bad directives from its plan, located already).
   */
  const located = async (error: unknown, raw: string, importer: string | undefined) => {
    if (need().command === "serve" && importer && GrokImageError.isInstance(error) && !error.loc) {
      const where = await locateDirective(importer, raw);
      if (where) {
        error.loc = where.loc;
        error.frame = where.frame;
        if (where.written) {
          error.message = error.message.split(raw).join(where.written);
          if (error.directive === raw) error.directive = where.written;
        }
      }
    }
    return toPluginError(error, importer, { hintApart: host === "astro" && need().command === "serve" });
  };
  /** A background failure in Vite's overlay payload shape. */
  const overlayError = async (error: unknown, use: DirectiveUse): Promise<OverlayError> => {
    const err = await located(error, use.directive.raw, use.importer);
    return { ...err, message: err.message, stack: "", plugin: PLUGIN_NAME } as OverlayError;
  };
  /**
   * A dev load that has no image yet: waiting images the dev client swaps for the real ones when they exist (the
   * generation ends, or another process fills the cache).
   */
  const waitingModule = async (
    use: DirectiveUse,
    id: string,
    kind: WaitingKind,
    done?: Promise<void>,
    failure?: GrokImageError,
  ) => {
    const { waitingImages } = await import("../workbench/waiting-images.js");
    const images = await waitingImages(use.directive, kind, need().options);
    if (failure) await session?.loop.trackFailed(use, id, images, failure);
    else session?.loop.track(use, id, images, done);
    return {
      code: moduleCode(images, use.directive.alt, imageImport, false, {
        pick: use.directive.pick,
        as: use.directive.output.as,
        ...(host === "vite" ? { clientImport: DEV_CLIENT_ID } : {}),
      }),
      moduleType: "js" as const,
    };
  };

  return {
    name: PLUGIN_NAME,
    // Before vite:resolve, so `grok:` never reaches the file-system resolver (it would look like a URL scheme).
    enforce: "pre",
    // Tools read the options from here; the key in them reads "[redacted]" in every dump (vite --debug prints it).
    api: { userOptions: hideApiKey(userOptions) },

    config(_config, env) {
      isPreview = env.isPreview === true;
    },

    configResolved(config) {
      const command = config.command;
      // Vitest runs a dev server too, with no page to swap an image into: a test's import waits for its image.
      devLoop = command === "serve" && !config.plugins.some((plugin) => plugin.name.startsWith("vitest"));
      // One build resolves a config per environment (Astro: five) within milliseconds: the options of its first
      // stand for all of them. A dev server resolves again on a restart (an edited `.env`), and so does a later build.
      const resolution = `${command}\0${config.mode}\0${String(config.envDir)}\0${config.root}`;
      const sameBuild =
        command === "build" && ledger && !ledgerFinished && context?.resolution === resolution;
      const options =
        (sameBuild ? context?.options : undefined) ??
        resolveOptions(userOptions, {
          root: config.root,
          // `.env` files feed the options like the shell does (MAXAPI_KEY, GROK_IMAGE_MODE...), the shell winning.
          env:
            config.envDir === false
              ? process.env
              : { ...loadEnv(config.mode, config.envDir, ""), ...process.env },
          command,
          // `vite preview` only serves a finished build: nothing to warn about.
          // Said when the first `grok:` module loads, not now: `vite preview` and Astro's `sync` server resolve the
          // config too, and never generate anything.
          onWarning: (message) => {
            keylessFallback = true;
            fallbackWarning = isPreview ? undefined : message;
          },
        });
      context = { options, logger: config.logger, command, resolution };
      // A build's output is rewritten by every build: listed as sources, it would be read and searched on each one.
      for (const { build } of [config, ...Object.values(config.environments ?? {})])
        outDirs.add(path.resolve(config.root, build.outDir));
      // Vite and Astro resolve one config per environment before building any; a later build with this plugin
      // instance (a second `build()` call) resolves again after one finished, and gets a budget of its own.
      if (command === "build" && (!ledger || ledgerFinished)) {
        ledger = createLedger();
        ledgerFinished = false;
        engine = undefined;
        planned = undefined;
        usedKeys = new Set();
        usedRecorded = 0;
      }
      // The cache may live outside the served roots (GROK_IMAGE_CACHE_DIR=/ci/cache): let the dev server read it.
      const allow = config.server.fs.allow as string[];
      const cacheDir = options.cacheDir.replaceAll("\\", "/");
      if (!allow.some((dir) => cacheDir === dir || cacheDir.startsWith(`${dir.replace(/\/$/, "")}/`))) {
        allow.push(cacheDir);
      }
    },

    resolveId: {
      filter: { id: [/^(?:grok:|virtual:grok-image\/)/, CACHED_FILE] },
      async handler(source, importer) {
        if (source === DEV_CLIENT_ID) return need().command === "serve" ? DEV_CLIENT_RESOLVED : null;
        const cached = need().command === "build" ? cachedFileId(source, need().options.cacheDir) : undefined;
        if (cached) return cached;
        if (!isDirectiveId(source)) return null;
        const raw = stripViteQuery(source);
        const file = importerFile(importer);
        let directive: Directive;
        try {
          directive = parse(raw, file);
        } catch (error) {
          // A build names every bad directive of the project at once, in the plan's report at its end.
          if (need().command === "build" && !(await followablePlan()))
            return toVirtualId(raw, "invalid directive");
          this.error(await located(error, raw, file));
        }
        const id = toVirtualId(raw, directive.generation.prompt);
        if (file && !importers.has(raw)) importers.set(raw, file);
        return id;
      },
    },

    // A build imports each cached image from the module that names it: no module per directive in between.
    transform: {
      order: "post",
      filter: { code: "grok:" },
      async handler(code, id) {
        if (need().command !== "build" || id.startsWith("\0") || !code.includes("grok:")) return null;
        const current = getEngine();
        // A module that comes back as the last build rewrote it, its directives all recorded hits still, is
        // rewritten the same way again: its imports are not read, nor any of them written anew.
        // How files become images is part of what was written: a Vite build never takes an Astro build's rewrite.
        const codeHash = `${imageImport}:${hash("sha256", code, "base64url")}`;
        const recorded = await current.recordedModule(id, codeHash, code, (as) =>
          handoffFor(imageImport, as),
        );
        if (recorded) {
          for (const directive of recorded.directives) {
            usedKeys.add(directive.key);
            noticeEncode(directive);
          }
          return { code: recorded.code, map: null };
        }
        let inlined: InlinedModule | undefined;
        try {
          inlined = await inlineDirectives(code, (source) => inlineModuleParts(source, id), importerFile(id));
        } catch (error) {
          this.error(error as Error);
        }
        if (inlined === undefined) return null;
        await current.rememberModule(id, codeHash, inlined.specifiers.map(stripViteQuery), inlined.splices);
        return { code: inlined.code, map: null };
      },
    },

    buildStart() {
      // A build plans everything as it starts: a bad directive anywhere fails it (at buildEnd, with one report)
      // with nothing paid. The bundler does not wait for the plan: it reads and transforms modules meanwhile, and
      // only a directive's first use waits for it (followablePlan), so a cached build spends no time on the plan alone.
      // A dev server (and Astro's sync server, which never loads an image) plans on first use.
      if (need().command === "build") getPlan().catch(() => {});
    },

    load: {
      filter: { id: /^\0(?:grok-image:|virtual:grok-image\/)/ },
      async handler(id) {
        if (id === DEV_CLIENT_RESOLVED) {
          const { browserCode } = await import("../workbench/browser-code.js");
          return { code: await browserCode("dev-client"), moduleType: "js" };
        }
        const raw = fromVirtualId(id);
        if (raw === undefined) return null;
        const importer = importers.get(raw);
        const { command } = need();
        let plan: PlanIndex | undefined;
        try {
          plan = command === "build" ? await followablePlan() : await getPlan();
        } catch (error) {
          // A dev server's plan that could not be made (a shared cache that is down): shown as any failed
          // directive is, with its code and hint, and made again on the next request rather than kept.
          planned = undefined;
          this.error(await located(error, raw, importer));
        }
        if (!plan) return { code: REFUSED_MODULE, moduleType: "js" };
        if (command === "serve" && plan.error && !scanErrorsShown) {
          scanErrorsShown = true;
          write("error", toPluginError(plan.error).message);
        }
        let use: DirectiveUse;
        try {
          // An id the browser still holds after a restart is loaded without being resolved first: this records it.
          const directive = parse(raw, importer);
          use = { directive, importer, ...plan.locate(importer, directive.generationKey) };
        } catch (error) {
          this.error(await located(error, raw, importer));
        }
        noticeEncode(use.directive);
        if (command === "serve" && fallbackWarning) {
          write("warn", fallbackWarning);
          fallbackWarning = undefined;
        }
        if (command === "serve" && !(await plan.written.isWritten(use.directive, importer))) {
          // Never a task, never a manifest entry, never a line on the review page: one shared placeholder.
          notWritten(use);
          const standIn = notWrittenDirective();
          const images = await placeholderImages(standIn, need().options);
          return {
            code: moduleCode(images, standIn.generation.prompt, imageImport, false),
            moduleType: "js",
          };
        }
        const current = getEngine();
        try {
          if (devLoop) {
            // Never block a page on a generation: it runs on, and the page swaps the image in when it is done.
            const running = await current.start(use);
            if (running) return await waitingModule(use, id, "generating", running.done);
          }
          const images = await current.images(use);
          usedKeys.add(use.directive.generationKey);
          if (devLoop && images.some((image) => image.status === "placeholder")) {
            // Placeholder mode (no key): swapped when another process (`grok-image generate`) fills the cache.
            return await waitingModule(use, id, "waiting");
          }
          loaded.set(use.directive.raw, images);
          if (command === "serve" && images.some((image) => image.status !== "cached")) current.report();
          return {
            code: moduleCode(images, use.directive.alt, imageImport, command === "build", {
              pick: use.directive.pick,
              as: use.directive.output.as,
            }),
            moduleType: "js",
          };
        } catch (error) {
          const failure = devLoop ? current.failure(use.directive.generationKey) : undefined;
          // A failed generation keeps a dev page working: a waiting image marked as failed, the error in the overlay
          // and the log, and the workbench's retry.
          if (failure) return await waitingModule(use, id, "failed", undefined, failure);
          // A refused miss (frozen, no key, budget) is reported with every other one when the build's graph is
          // complete (buildEnd): one report, one CI round trip. Nothing was paid for any of them.
          if (current.isRefused(use.directive.generationKey)) {
            if (command === "build") return { code: REFUSED_MODULE, moduleType: "js" };
            // A dev server goes on: the page shows a placeholder and the log says why, once per refusal.
            sayOnce("error", devRefusal(error));
            return await waitingModule(use, id, "waiting");
          }
          this.error(await located(error, use.directive.raw, importer));
        }
      },
    },

    async buildEnd(error) {
      if (need().command !== "build") return;
      if (!error && planned) {
        const plan = await planned.catch((failure: unknown) => this.error(toPluginError(failure)));
        if (plan.error) this.error(toPluginError(plan.error));
      }
      if (!engine) return;
      engine.report();
      const refusal = engine.refusal();
      const complete = !error && !refusal;
      // A later environment that used no new key (the set only grows) leaves the record as an earlier one of this
      // build made it, without reading it again.
      if (usedKeys.size > 0 && !(complete && usedKeys.size === usedRecorded)) {
        const { cacheDir, root } = need().options;
        // A build that failed may not have loaded everything it uses: it adds to the record instead of replacing it.
        await recordUsedKeys(cacheDir, root, usedKeys, complete);
        if (complete) usedRecorded = usedKeys.size;
      }
      if (refusal && !error) this.error(toPluginError(refusal));
    },

    async configureServer(server: ViteDevServer) {
      const { options } = need();
      // A budget per server start: a restart starts from nothing spent.
      devLedger = createLedger();
      session?.close();
      session = undefined;
      // Writing the cache (placeholders, variants) must never look like a source change to the watcher.
      server.watcher.unwatch(options.cacheDir);
      // A middleware-mode server with neither WebSocket nor HMR (Astro's content sync inside `astro build`) can swap
      // nothing into a page and answers no person: it gets no dev loop and no workbench, and loads neither.
      const { middlewareMode, ws, hmr } = server.config.server;
      if (middlewareMode && ws === false && hmr === false) return;
      const { startDevSession } = await import("../workbench/dev-session.js");
      session = startDevSession({
        server,
        options,
        engine: getEngine,
        markdownRoots: internal.markdownRoots ?? [],
        outDirs,
        loaded,
        spentUsd: () => devLedger.committedUsd,
        write,
        reportFailure: (error, use) => write("error", toPluginError(error, use.importer).message),
        overlayError,
        printUrl: host === "vite",
      });
    },

    async closeBundle() {
      // In a build everything is done by now: the engine (and its plan) stays for the build's next environment,
      // and only its HTTP client is closed. A dev server closing (or restarting) stops the work still in flight:
      // submitted tasks stay in the pending journal, so the next start resumes them without paying again.
      const closing = engine;
      if (need().command === "serve") {
        // Closed first: the generations the abort ends must not swap, report or start anything any more. A restart
        // configures the new server before it closes the old one: the new server's session stays.
        if (session?.owns(this.environment)) {
          session.close();
          session = undefined;
        }
        stop.abort();
        stop = new AbortController();
        engine = undefined;
        planned = undefined;
        loaded.clear();
      } else ledgerFinished = true;
      await closing?.close();
    },
  };
}

/** The plan of a build or dev server, and where each scanned directive is. */
interface PlanIndex {
  /** Every bad directive of the project in one error, if any. */
  readonly error: GrokImageError | undefined;
  /** What a dev server may pay for. */
  readonly written: WrittenDirectives;
  /** Line and column of a directive in a file, when the scan found it there. */
  locate(file: string | undefined, generationKey: string): { line?: number; column?: number };
}

async function makePlan(
  engine: Engine,
  markdownRoots: readonly string[],
  outDirs: ReadonlySet<string>,
  dev: boolean,
): Promise<PlanIndex> {
  // What the hit record holds is valid and cached: the scan lists it without parsing it, and reads no source file
  // that kept the identity the record knows it by.
  const record = await engine.recorded();
  const scan: ProjectScan = await scanProject(engine.options, {
    markdownRoots,
    outDirs,
    recorded: record && ((raw) => record.keyOf(raw) !== undefined),
    known: record?.sources,
  });
  // Made on first use: only a miss or an error asks where its directive is written.
  let at: Map<string, { line: number; column: number }> | undefined;
  const where = () => {
    if (at) return at;
    at = new Map();
    for (const use of scan.uses) {
      const key = `${use.importer}\0${use.directive.generationKey}`;
      if (!at.has(key)) at.set(key, { line: use.line, column: use.column });
    }
    return at;
  };
  // A dev server pays as pages ask, each load within what is left of its budget; a build reserves its plan's cost.
  // A build with a bad directive fails on them before anything else: no plan line that it will not follow.
  if (dev || scan.errors.length === 0)
    await engine.plan(scan.uses, { payAsLoaded: dev, recorded: scan.recorded });
  // Only a dev server asks what is written (a build pays for what its plan holds): made on first use. A dev server
  // has no hit record, so its scan leaves nothing unparsed; and the plan keeps no hold on a build's record, which the
  // engine lets go once the bundling is done.
  let written: WrittenDirectives | undefined;
  return {
    get written() {
      written ??= writtenDirectives(
        scan.uses.map((use) => use.directive.generationKey),
        engine.options,
      );
      return written;
    },
    error:
      scan.errors.length > 0
        ? badDirectivesError(
            scan.errors.map((bad) => ({ ...bad, file: bad.importer })),
            engine.options.root,
          )
        : undefined,
    locate: (file, key) => (file ? (where().get(`${file}\0${key}`) ?? {}) : {}),
  };
}

export default grokImage;
