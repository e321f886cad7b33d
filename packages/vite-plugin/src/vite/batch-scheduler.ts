import type { DirectiveUse } from "../engine/engine-types.js";

/** How long a batch waits for the module graph to settle. */
export interface SettleTiming {
  /** Quiet time (no new `grok:` use, no module moving through the graph) that closes the window. @default 40 */
  quietMs?: number;
  /** The longest a window stays open, however busy the graph is; later uses form a later batch. @default 3000 */
  maxMs?: number;
}

export interface BatchScheduler {
  /** A `grok:` use the module graph reached (`resolveId`): it joins the next batch. Nothing else is ever planned. */
  record(use: DirectiveUse): void;
  /** The module graph moved (a module was transformed): an open window stays open a little longer. */
  touch(): void;
  /**
   * Settles once the batch that holds this use has been prepared, or rejects with that batch's error. The first
   * call opens a settle window; every use recorded while it is open joins the same batch.
   */
  ready(use: DirectiveUse): Promise<void>;
  /**
   * Stops: an open window is dropped without running (its waiters reject with `reason`: a closing dev server must
   * not start paid work it would abort), then waits for every batch already started, whatever its outcome.
   */
  stop(reason: Error): Promise<void>;
}

interface Window {
  readonly openedAt: number;
  timer?: NodeJS.Timeout;
  readonly batch: PromiseWithResolvers<void>;
}

/**
 * Groups the `grok:` uses of a build into as few batches as possible without ever planning one the build does
 * not import. The module graph is only known as it is walked, so the first `load` of a `grok:` module opens a
 * short window that stays open while new `grok:` ids keep arriving or other modules are still being transformed
 * (so directives of files imported later in the walk join in), and closes after `quietMs` of calm, or `maxMs` at
 * most. All uses recorded by then are planned together: one frozen report, one budget check, one dedupe.
 *
 * @param run prepares one batch (the engine's `prepare`); its rejection is the batch's error.
 */
export function createBatchScheduler(
  run: (uses: DirectiveUse[]) => Promise<unknown>,
  timing: SettleTiming = {},
): BatchScheduler {
  const quietMs = timing.quietMs ?? 40;
  const maxMs = timing.maxMs ?? 3000;
  /** Uses waiting for the next batch, one per directive and importer (the frozen report names every importer). */
  const queued = new Map<string, DirectiveUse>();
  /** The batch each directive went into, by its text. */
  const planned = new Map<string, Promise<void>>();
  const started: Promise<unknown>[] = [];
  let open: Window | undefined;

  const arm = (window: Window) => {
    clearTimeout(window.timer);
    const left = window.openedAt + maxMs - Date.now();
    window.timer = setTimeout(close, Math.max(0, Math.min(quietMs, left)));
  };

  function close(): void {
    const window = open;
    if (!window) return;
    open = undefined;
    const uses = [...queued.values()];
    queued.clear();
    const batch = run(uses).then(() => undefined);
    // Waiters get the rejection; this keeps a batch nobody waits for from being an unhandled rejection.
    started.push(batch.catch(() => undefined));
    for (const use of uses) planned.set(use.directive.raw, batch);
    window.batch.resolve(batch);
  }

  const record = (use: DirectiveUse) => {
    const { raw } = use.directive;
    const id = `${raw}\0${use.importer ?? ""}`;
    if (planned.has(raw) || queued.has(id)) return;
    queued.set(id, use);
    if (open) arm(open);
  };

  return {
    record,
    touch: () => {
      if (open) arm(open);
    },
    ready(use) {
      const batch = planned.get(use.directive.raw);
      if (batch) return batch;
      record(use);
      if (!open) {
        open = { openedAt: Date.now(), batch: Promise.withResolvers() };
        arm(open);
      }
      return open.batch.promise;
    },
    async stop(reason) {
      if (open) {
        clearTimeout(open.timer);
        open.batch.reject(reason);
        open = undefined;
      }
      queued.clear();
      await Promise.all(started);
    },
  };
}
