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
 * so the dev client swaps them in place: no reload, scroll and state kept.
 */

/** The overlay's error for a generation that failed in the background (Vite's `ErrorPayload["err"]`). */
export type OverlayError = { message: string; stack: string } & Record<string, unknown>;

export interface DevLoopDeps {
  readonly server: ViteDevServer;
  /** The cache folder, whose manifest is watched for what other processes generate. */
  readonly cacheDir: string;
  /** The dev server's engine (it is replaced when the server restarts). */
  readonly engine: () => Engine;
  /** Says a background failure in the log, once. */
  readonly reportFailure: (error: unknown, use: DirectiveUse) => void;
  /** Keeps the images a directive shows now (the workbench finds a page's directives by their files). */
  readonly remember: (use: DirectiveUse, images: readonly ReadyImage[]) => void;
  /** The overlay's view of that failure. */
  readonly overlayError: (error: unknown, use: DirectiveUse) => Promise<OverlayError>;
}

/** A directive a module showed waiting images for. */
interface Waiting {
  readonly use: DirectiveUse;
  /** The virtual ids that loaded it (one per environment query suffix). */
  readonly ids: Set<string>;
  images: readonly ReadyImage[];
}

/** What the workbench says about a generation running in this server. */
export interface Activity {
  /** When a page first asked for it. */
  readonly queuedAt: number;
  /** When its task was submitted (or resumed): from then on it is generating, before that queued. */
  startedAt?: number;
  taskId?: string;
}

export interface DevLoop {
  /**
   * A module loaded `images` (waiting images) for `use` under `id`. With `generation`, the swap happens when it
   * settles; without, when the cache gets the directive's images some other way (another process, a retry).
   */
  track(use: DirectiveUse, id: string, images: readonly ReadyImage[], generation?: Promise<void>): void;
  /** The cache's manifest changed: swap whatever it now holds. */
  cacheChanged(): Promise<void>;
  /** Hears the engine's progress (task submitted, done, failed). */
  onEvent(event: EngineEvent): void;
  /** What runs or waits for a generation key. */
  activity(generationKey: string): Activity | undefined;
  /** The waiting images shown for a generation key, by directive as written. */
  waitingFor(generationKey: string): ReadonlyMap<string, readonly ReadyImage[]>;
  /**
   * Generates a failed key again (the workbench's "retry"): the engine forgets the failure, the generation starts
   * within what is left of the budget, and the open pages swap when it ends. False when the key has not failed.
   */
  retry(generationKey: string): Promise<boolean>;
  /** Resolves when every swap started so far is done (tests, shutdown). */
  idle(): Promise<void>;
  /** Stops watching the cache. */
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
  const failed = new Map<string, string>();
  const activities = new Map<string, Activity>();
  const running = new Set<Promise<void>>();

  let unwatch: (() => void) | undefined;
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
    const gone = names.filter((name) => failed.has(name));
    if (gone.length > 0) {
      client.send(FAILED_EVENT, {
        names: gone,
        message: failed.get(gone[0] as string) as string,
      } satisfies FailedPayload);
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

  /** The directive's images are in the cache (or its generation failed): tell every page and module. */
  async function settle(key: string): Promise<void> {
    const entries = waiting.get(key);
    if (!entries) return;
    waiting.delete(key);
    activities.delete(key);
    const engine = deps.engine();
    const ids = new Set<string>();
    const swaps: ImageSwap[] = [];
    const kept = new Map<string, Waiting>();
    for (const entry of entries.values()) {
      for (const id of entry.ids) ids.add(id);
      let images: ReadyImage[];
      try {
        images = await engine.images(entry.use);
      } catch (error) {
        kept.set(entry.use.directive.raw, entry);
        await fail(error, entry);
        continue;
      }
      if (images.some((image) => image.status === "placeholder")) {
        // Still nothing to show (placeholder mode): wait for the cache.
        kept.set(entry.use.directive.raw, entry);
        continue;
      }
      deps.remember(entry.use, images);
      entry.images.forEach((shown, i) => {
        const real = images[i];
        if (!real) return;
        const swap: ImageSwap = {
          name: waitingName(shown.file),
          fromWidth: shown.width,
          fromHeight: shown.height,
          src: fsUrl(real.file),
          width: real.width,
          height: real.height,
          format: astroFormat(real.format),
        };
        swapped.set(swap.name, swap);
        failed.delete(swap.name);
        swaps.push(swap);
      });
    }
    // A failed directive stays known, so a retry (or another process filling the cache) can still swap it.
    if (kept.size > 0) waiting.set(key, kept);
    invalidateIds(ids);
    if (swaps.length > 0) hot.send(READY_EVENT, { swaps } satisfies ReadyPayload);
  }

  async function fail(error: unknown, entry: Waiting): Promise<void> {
    const overlay = await deps.overlayError(error, entry.use);
    deps.reportFailure(error, entry.use);
    const names = entry.images.map((image) => waitingName(image.file));
    const message = String(overlay.message).split("\n")[0] as string;
    for (const name of names) failed.set(name, message);
    hot.send(FAILED_EVENT, { names, message } satisfies FailedPayload);
    hot.send({ type: "error", err: overlay as never });
  }

  return {
    track(use, id, images, generation) {
      // Watched from the first waiting image on: the engine has opened (created) the cache by then.
      unwatch ??= watchManifest(deps.cacheDir, () => keep(this.cacheChanged()));
      const key = use.directive.generationKey;
      let entries = waiting.get(key);
      if (!entries) {
        entries = new Map();
        waiting.set(key, entries);
      }
      const known = entries.get(use.directive.raw);
      if (known) {
        known.ids.add(id);
        known.images = images;
      } else entries.set(use.directive.raw, { use, ids: new Set([id]), images });
      if (!generation) return;
      if (!activities.has(key)) activities.set(key, { queuedAt: Date.now() });
      keep(generation.then(() => settle(key)));
    },

    async cacheChanged() {
      const filled = await deps.engine().refresh();
      await Promise.all(filled.filter((key) => waiting.has(key)).map((key) => settle(key)));
    },

    onEvent(event) {
      if (event.type !== "task") return;
      const activity = activities.get(event.key);
      if (!activity) return;
      if (event.taskId) activity.taskId = event.taskId;
      if (event.state === "submitted" || event.state === "resumed") activity.startedAt ??= Date.now();
    },

    activity: (key) => activities.get(key),

    waitingFor(key) {
      const entries = waiting.get(key);
      return new Map([...(entries?.values() ?? [])].map((entry) => [entry.use.directive.raw, entry.images]));
    },

    async retry(key) {
      const engine = deps.engine();
      if (!engine.retry(key)) return false;
      const entries = [...(waiting.get(key)?.values() ?? [])];
      for (const entry of entries) for (const image of entry.images) failed.delete(waitingName(image.file));
      // Loads that failed left no module behind; the ones that showed a waiting image show it again on a reload.
      invalidateIds(entries.flatMap((entry) => [...entry.ids]));
      const first = entries[0];
      if (!first) return true;
      const restarted = await engine.start(first.use);
      if (restarted) {
        activities.set(key, { queuedAt: Date.now() });
        keep(restarted.done.then(() => settle(key)));
      } else keep(settle(key));
      return true;
    },

    async idle() {
      while (running.size > 0) await Promise.all([...running]);
    },

    close() {
      unwatch?.();
    },
  };
}
