import path from "node:path";
import { type EnvironmentModuleNode, isRunnableDevEnvironment, type ViteDevServer } from "vite";
import type { DirectiveUse, Engine, EngineEvent, ReadyImage } from "../engine/engine-types.js";
import {
  FAILED_EVENT,
  type FailedPayload,
  HELLO_EVENT,
  type HelloPayload,
  type ImageSwap,
  READY_EVENT,
  type ReadyPayload,
} from "./protocol.js";
import { waitingName } from "./waiting-images.js";
import { watchManifest } from "./watch-manifest.js";

/*
 * The never-blocking half of the dev loop (SPEC section 11). A load that misses the cache answers at once with
 * waiting images and leaves the generation running; this is what happens next. When a generation ends (or another
 * process fills the cache), every module that showed a waiting image for it is invalidated in every environment,
 * so the next navigation renders the real image, and the open pages are told which waiting image became which file,
 * so the dev client swaps them in place: no reload, scroll and state kept. A generation that fails keeps its page
 * working (a waiting image marked as failed) and shows the error in the overlay, until a retry or another process
 * brings the image.
 */

/** The overlay's error for a generation that failed (Vite's `ErrorPayload["err"]`). */
export type OverlayError = { message: string; stack: string } & Record<string, unknown>;

export interface DevLoopDeps {
  readonly server: ViteDevServer;
  /** The cache folder, whose manifest is watched for what other processes generate. */
  readonly cacheDir: string;
  /** The dev server's engine (it is replaced when the server restarts). */
  readonly engine: () => Engine;
  /** Keeps the images a directive shows now (the workbench finds a page's directives by their files). */
  readonly remember: (use: DirectiveUse, images: readonly ReadyImage[]) => void;
  /** Says a failure in the log, once. */
  readonly reportFailure: (error: unknown, use: DirectiveUse) => void;
  /** The overlay's view of that failure. */
  readonly overlayError: (error: unknown, use: DirectiveUse) => Promise<OverlayError>;
}

/** A directive modules showed waiting images for. */
interface Waiting {
  readonly use: DirectiveUse;
  /** The virtual ids that loaded it (one per environment query suffix). */
  readonly ids: Set<string>;
  /** Every waiting image shown for it, by name (one load may show "generating…", a later one "failed"). */
  readonly shown: Map<string, Shown>;
}

/** A waiting file: a take's own image, or one output (width and format) of an `as=srcset|picture` take. */
interface Shown {
  readonly take: ReadyImage;
  /** Its place among the take's outputs (`outputTransforms` order, as the real take lists them); absent for the take. */
  readonly output?: number;
  readonly width: number;
  readonly height: number;
}

/** What the workbench says about a generation running in this server. */
export interface Activity {
  /** When a page first asked for it. */
  readonly queuedAt: number;
  /** When its task was submitted (or resumed): from then on it is generating, before that queued. */
  startedAt?: number;
  taskId?: string;
}

/** A failed generation, as pages are told about it. */
interface Failure {
  readonly message: string;
  readonly overlay: OverlayError;
}

export interface DevLoop {
  /**
   * A module loaded `images` (waiting images) for `use` under `id`. With `generation`, the swap happens when it
   * settles; without, when the cache gets the directive's images some other way (another process, a retry).
   */
  track(use: DirectiveUse, id: string, images: readonly ReadyImage[], generation?: Promise<void>): void;
  /** Like `track`, for a directive whose generation failed: pages are told (and the overlay shows it). */
  trackFailed(use: DirectiveUse, id: string, images: readonly ReadyImage[], error: unknown): Promise<void>;
  /** The cache's manifest changed: swap whatever it now holds. */
  cacheChanged(): Promise<void>;
  /** Hears the engine's progress (task submitted, done, failed). */
  onEvent(event: EngineEvent): void;
  /** What runs or waits for a generation key. */
  activity(generationKey: string): Activity | undefined;
  /** The waiting images shown for a generation key. */
  waitingFor(generationKey: string): readonly ReadyImage[];
  /**
   * Generates a failed key again (the workbench's "retry"): the engine forgets the failure, the generation starts
   * within what is left of the budget, and the open pages swap when it ends. False when the key has not failed.
   */
  retry(generationKey: string): Promise<boolean>;
  /** Resolves when every swap started so far is done (tests, shutdown). */
  idle(): Promise<void>;
  /** Stops watching the cache; nothing starts or swaps any more. */
  close(): void;
}

/** Astro's `origFormat` spelling of a format. */
function astroFormat(format: string): string {
  return format === "jpeg" ? "jpg" : format;
}

/** The dev-server URL of any file: `/@fs/` + its absolute path (allowed: the cache is in `server.fs.allow`). */
export function fsUrl(file: string): string {
  const posix = path.resolve(file).replaceAll("\\", "/");
  return `/@fs/${posix.replace(/^\//, "")}`;
}

export function createDevLoop(deps: DevLoopDeps): DevLoop {
  const { server } = deps;
  const hot = server.environments.client.hot;
  /** generation key -> directive as written -> what its modules showed. */
  const waiting = new Map<string, Map<string, Waiting>>();
  /** Every swap made, by waiting name: a page that connects late (or reloads from the browser cache) asks for it. */
  const swapped = new Map<string, ImageSwap>();
  /** Failed generations by key, and the key of every waiting image name shown for one. */
  const failures = new Map<string, Failure>();
  const keyOf = new Map<string, string>();
  const activities = new Map<string, Activity>();
  const running = new Set<Promise<void>>();

  let unwatch: (() => void) | undefined;
  /** Set when the server closes: its aborted generations end, and nothing may start again for them. */
  let closed = false;
  /** Background work, awaited by `idle()`. A manifest caught mid-write is read again on its next change. */
  const keep = (work: Promise<void>) => {
    const settled = work.catch(() => {});
    running.add(settled);
    void settled.finally(() => running.delete(settled));
  };

  hot.on(HELLO_EVENT, (data: HelloPayload, client) => {
    const names = Array.isArray(data?.names) ? data.names.filter((n) => typeof n === "string") : [];
    const swaps = names.flatMap((name) => swapped.get(name) ?? []);
    if (swaps.length > 0) client.send(READY_EVENT, { swaps } satisfies ReadyPayload);
    // A page that shows a failed image gets the failure in its overlay, as it would have when it happened.
    const told = new Set<string>();
    for (const name of names) {
      const key = keyOf.get(name);
      const failure = key === undefined || swapped.has(name) ? undefined : failures.get(key);
      if (!failure || key === undefined || told.has(key)) continue;
      told.add(key);
      const gone = names.filter((other) => keyOf.get(other) === key);
      client.send(FAILED_EVENT, { names: gone, message: failure.message } satisfies FailedPayload);
      client.send({ type: "error", err: failure.overlay as never });
    }
  });

  function invalidateIds(ids: Iterable<string>): void {
    const timestamp = Date.now();
    const list = [...ids];
    for (const environment of Object.values(server.environments)) {
      const graph = environment.moduleGraph;
      const seen = new Set<EnvironmentModuleNode>();
      for (const id of list) {
        const mod = graph.getModuleById(id);
        if (mod) graph.invalidateModule(mod, seen, timestamp, true);
      }
      // A module runner (Astro's SSR) keeps what it evaluated: it must forget the module and its importers too.
      // (Only where the module was: asking an environment for its runner starts one.)
      if (seen.size > 0 && isRunnableDevEnvironment(environment)) {
        const evaluated = environment.runner.evaluatedModules;
        for (const mod of seen) {
          const node = mod.id ? evaluated.getModuleById(mod.id) : undefined;
          if (node) evaluated.invalidateModule(node);
        }
      }
    }
  }

  function record(use: DirectiveUse, id: string, images: readonly ReadyImage[]): string {
    const key = use.directive.generationKey;
    let entries = waiting.get(key);
    if (!entries) {
      entries = new Map();
      waiting.set(key, entries);
    }
    let entry = entries.get(use.directive.raw);
    if (!entry) {
      entry = { use, ids: new Set(), shown: new Map() };
      entries.set(use.directive.raw, entry);
    }
    entry.ids.add(id);
    const show = (file: string, shown: Shown) => {
      const name = waitingName(file);
      entry.shown.set(name, shown);
      keyOf.set(name, key);
    };
    for (const take of images) {
      show(take.file, { take, width: take.width, height: take.height });
      for (const [output, o] of (take.outputs ?? []).entries())
        show(o.file, { take, output, width: o.width, height: o.height });
    }
    // Watched from the first waiting image on: the engine has opened (created) the cache by then.
    unwatch ??= watchManifest(deps.cacheDir, () => keep(cacheChanged()));
    return key;
  }

  /** The directive's images are in the cache (or its generation failed): tell every page and module. */
  async function settle(key: string): Promise<void> {
    const entries = waiting.get(key);
    if (!entries || closed) return;
    activities.delete(key);
    const engine = deps.engine();
    const ids = new Set<string>();
    const swaps: ImageSwap[] = [];
    for (const entry of [...entries.values()]) {
      for (const id of entry.ids) ids.add(id);
      let images: ReadyImage[];
      try {
        images = await engine.images(entry.use);
      } catch (error) {
        await fail(key, error, entry);
        continue;
      }
      // Still nothing to show (placeholder mode): wait for the cache.
      if (images.some((image) => image.status === "placeholder")) continue;
      entries.delete(entry.use.directive.raw);
      deps.remember(entry.use, images);
      for (const [name, shown] of entry.shown) {
        const take = images[shown.take.index];
        const real = shown.output === undefined ? take : take?.outputs?.[shown.output];
        if (!real) continue;
        const swap: ImageSwap = {
          name,
          fromWidth: shown.width,
          fromHeight: shown.height,
          src: fsUrl(real.file),
          width: real.width,
          height: real.height,
          format: astroFormat(real.format),
        };
        swapped.set(name, swap);
        swaps.push(swap);
      }
    }
    // A directive that failed stays known, so a retry (or another process filling the cache) can still swap it.
    if (entries.size === 0) {
      waiting.delete(key);
      failures.delete(key);
    }
    invalidateIds(ids);
    if (swaps.length > 0) hot.send(READY_EVENT, { swaps } satisfies ReadyPayload);
  }

  async function fail(key: string, error: unknown, entry: Waiting): Promise<void> {
    const overlay = await deps.overlayError(error, entry.use);
    const message = String(overlay.message).split("\n")[0] as string;
    if (!failures.has(key)) deps.reportFailure(error, entry.use);
    failures.set(key, { message, overlay });
    hot.send(FAILED_EVENT, { names: [...entry.shown.keys()], message } satisfies FailedPayload);
    hot.send({ type: "error", err: overlay as never });
  }

  async function cacheChanged(): Promise<void> {
    if (closed) return;
    const filled = await deps.engine().refresh();
    await Promise.all(filled.filter((key) => waiting.has(key)).map((key) => settle(key)));
  }

  return {
    track(use, id, images, generation) {
      const key = record(use, id, images);
      if (!generation) return;
      if (!activities.has(key)) activities.set(key, { queuedAt: Date.now() });
      keep(generation.then(() => settle(key)));
    },

    async trackFailed(use, id, images, error) {
      const key = record(use, id, images);
      if (failures.has(key)) return;
      const overlay = await deps.overlayError(error, use);
      failures.set(key, { message: String(overlay.message).split("\n")[0] as string, overlay });
    },

    cacheChanged,

    onEvent(event) {
      if (event.type !== "task") return;
      const activity = activities.get(event.key);
      if (!activity) return;
      if (event.taskId) activity.taskId = event.taskId;
      if (event.state === "submitted" || event.state === "resumed") activity.startedAt ??= Date.now();
    },

    activity: (key) => activities.get(key),

    waitingFor(key) {
      return [...(waiting.get(key)?.values() ?? [])].flatMap((entry) =>
        [...entry.shown.values()].flatMap((shown) => (shown.output === undefined ? [shown.take] : [])),
      );
    },

    async retry(key) {
      if (closed) return false;
      const engine = deps.engine();
      if (!engine.retry(key)) return false;
      failures.delete(key);
      const entries = [...(waiting.get(key)?.values() ?? [])];
      // A reload shows "generating…" again, not the failure.
      invalidateIds(entries.flatMap((entry) => [...entry.ids]));
      const first = entries[0];
      if (!first) return true;
      activities.set(key, { queuedAt: Date.now() });
      const restarted = await engine.start(first.use);
      keep((restarted?.done ?? Promise.resolve()).then(() => settle(key)));
      return true;
    },

    async idle() {
      while (running.size > 0) await Promise.all([...running]);
    },

    close() {
      closed = true;
      unwatch?.();
    },
  };
}
