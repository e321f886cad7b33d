import { join } from "node:path";
import type { MaxApiClient } from "../api/maxapi-client.js";
import { HitRecord, hitContext } from "../cache/hit-record.js";
import { type ImageCache, openCache } from "../cache/image-cache.js";
import { fileStamp } from "../cache/manifest-store.js";
import { estimateCost } from "../directive/models.js";
import { formatError, GrokImageError } from "../errors.js";
import { createLimiter } from "../shared/limiter.js";
import { readThrough, restoreFromShared, sharedCacheHandle } from "../storage/engine-hooks.js";
import type { Generation, OutputShape, ResolvedOptions } from "../types.js";
import { createLedger, remainingBudget, reserveSubmit } from "./budget.js";
import { corruptError, deriveImages, placeholderImages, verifiedImages } from "./derive-images.js";
import type {
  BatchSummary,
  DirectiveStatus,
  DirectiveUse,
  Engine,
  EngineDeps,
  EngineEvent,
  PlanOptions,
  PrepareOptions,
  ReadyImage,
  Running,
} from "./engine-types.js";
import { type GenerateContext, type GenerateOutcome, generateOne } from "./generate-one.js";
import { type BatchPlan, checkBatch, type PlannedGeneration, planBatch } from "./plan-batch.js";
import { repairEntry } from "./repair-entry.js";
import { createTaskSlots, pipelineWidth } from "./task-slots.js";

type KeyState =
  | { state: "cached" | "generated" | "placeholder" | "missing" }
  | { state: "generating"; promise: Promise<void> }
  | { state: "failed"; error: GrokImageError }
  /** A miss the build's plan refused (frozen, no key, over budget): never submitted, reported with the others. */
  | { state: "refused" };

/** What `plan()` decided for the whole build. */
interface BuildPlan {
  /** Misses whose cost the plan already committed to the budget: loading them checks nothing again. */
  readonly budgeted: Set<string>;
  /** Why every miss is refused, when the plan as a whole may not be paid for. */
  readonly refusal: GrokImageError | undefined;
  /** What the ledger allowed when the plan was made: a refused plan reports against it. */
  readonly remainingUsd: number | undefined;
}

/** Paid work of one `prepare` added to a running total; directives and hits are counted as they load. */
function addTo(total: BatchSummary, part: BatchSummary): void {
  total.generated += part.generated;
  total.failed += part.failed;
  total.costUsd = addUsd(total.costUsd, part.costUsd);
}

/** Sums of sub-cent prices, kept to the micro-dollar so $0.001 × 3 reads $0.003 and compares equal to it. */
function addUsd(a: number, b: number): number {
  return Math.round((a + b) * 1e6) / 1e6;
}

function newSummary(): BatchSummary {
  return { directives: 0, hits: 0, generated: 0, placeholders: 0, failed: 0, costUsd: 0, ms: 0 };
}

/**
 * The batch engine: the one place that decides what is paid for. Framework-free; the Vite plugin, the Astro
 * integration and the CLI all drive it through `prepare()` and `images()`.
 */
export function createEngine(options: ResolvedOptions, deps: EngineDeps = {}): Engine {
  const emit = (event: EngineEvent) => deps.onEvent?.(event);
  const keys = new Map<string, KeyState>();
  const seen = new Map<string, DirectiveUse>();
  let buildPlan: BuildPlan | undefined;
  /** Uses the plan refused, by key: the report lists exactly the misses the build loaded. */
  const refused = new Map<string, DirectiveUse[]>();
  /** What happened since the last `report()` (a planned build reports once, not once per directive). */
  let totals = newSummary();
  let totalsSince = Date.now();
  let cache: Promise<ImageCache> | undefined;
  /** Tasks running at MaxAPI (the `concurrency` option), shared by every batch of the engine. */
  const slots = createTaskSlots(options.concurrency);
  /** Generations under way: those holding a slot, and as many again downloading and storing their results. */
  const limit = createLimiter(pipelineWidth(options.concurrency));
  const ledger = deps.budget ?? createLedger();
  const reserve = (generation: Generation, why: string) =>
    reserveSubmit(ledger, options.maxCost, generation, why);
  /**
   * What each planned miss committed to the ledger. A miss that ends paid by someone else (another machine of the
   * shared cache, another process of this cache, a task an earlier run paid for) gives its share back, so what it
   * would have cost is free for the rest of the build.
   */
  const charged = new Map<string, number>();
  const charge = (plan: BatchPlan, misses: readonly string[]) => {
    for (const key of misses) {
      if (plan.resumable.has(key)) continue;
      const usd = estimateCost((plan.generations.get(key) as PlannedGeneration).generation);
      ledger.committedUsd += usd;
      charged.set(key, (charged.get(key) ?? 0) + usd);
    }
  };
  /** A planned miss is over: what it committed stays spent when it was paid here (or failed), else comes back. */
  const settle = (key: string, paidHere: boolean) => {
    const usd = charged.get(key);
    charged.delete(key);
    if (usd !== undefined && !paidHere) ledger.committedUsd -= usd;
  };
  let client: Promise<MaxApiClient> | undefined;
  /** The shared cache (SPEC section 12), loaded on the first local miss; undefined when none is configured. */
  const shared = sharedCacheHandle(options, emit, deps.sharedCache);
  /**
   * What one paid generation needs; the client is created only when something is actually generated. Every submit
   * MaxAPI accepts is counted in `into` (a batch's summary, or the running totals), re-submits included.
   */
  const context = async (store: ImageCache, into: () => BatchSummary): Promise<GenerateContext> => ({
    cache: store,
    client: await getClient(),
    slots,
    options,
    emit,
    signal: deps.signal,
    reserve,
    shared,
    charge: (generation) => {
      const summary = into();
      summary.costUsd = addUsd(summary.costUsd, estimateCost(generation));
    },
  });

  /** A damaged variant is derived again, for free: the log says so. */
  const warnDamaged = (damaged: GrokImageError) => emit({ type: "warn", message: formatError(damaged) });

  const getCache = () => {
    cache ??= openCache(options.cacheDir);
    return cache;
  };
  const manifestPath = join(options.cacheDir, "manifest.json");
  /** What this machine's last build loaded its hits as (a build's engine only): answers them without the cache. */
  let hitRecord: Promise<HitRecord | undefined> | undefined;
  const getRecord = (): Promise<HitRecord | undefined> => {
    if (!deps.hitRecord) return Promise.resolve(undefined);
    // No manifest, no record: a project without images, or before its first generation, works nothing out.
    hitRecord ??= fileStamp(manifestPath)
      .then((stamp) =>
        stamp === undefined
          ? undefined
          : HitRecord.read(join(options.cacheDir, "locks", "hit-record.json"), hitContext(options), stamp),
      )
      .catch(() => undefined);
    return hitRecord;
  };
  /**
   * Leaves the record of what this build loaded, made with the manifest this process last read or wrote, unless
   * another process changed the manifest since (its entries may then not be the ones the images were made from).
   */
  const saveRecord = async () => {
    const record = await hitRecord;
    if (!record) return;
    // The keys this build generated or repaired, if any: a cached build passes over the record not at all.
    const changed = new Set<string>();
    keys.forEach(({ state }, key) => {
      if (state !== "cached") changed.add(key);
    });
    if (changed.size > 0) record.forget((key) => changed.has(key));
    const opened = await cache?.catch(() => undefined);
    const known = opened ? opened.manifestStamp() : record.manifest;
    const now = await fileStamp(manifestPath);
    if (known !== undefined && known === now) await record.save(now);
  };
  /**
   * Whether a directive the hit record holds may be answered from it: handed over as the host takes its shape, and
   * not generated or repaired by this build.
   */
  const recordedHolds = (
    hit: { readonly key: string; readonly handoff: "encoded" | "source"; readonly as: OutputShape },
    handoffFor: (as: OutputShape) => "encoded" | "source",
  ): boolean => {
    if (handoffFor(hit.as) !== hit.handoff) return false;
    const state = keys.get(hit.key)?.state;
    return state === undefined || state === "cached";
  };
  /** A directive answered from the hit record: a hit, as `cachedImages` counts one. */
  const countRecorded = (hit: { readonly key: string }) => {
    if (!keys.has(hit.key)) keys.set(hit.key, { state: "cached" });
    totals.directives++;
    totals.hits++;
  };
  /** The HTTP client and its retry stack (undici, p-retry) load on the first generation: a cached build loads neither. */
  const getClient = (): Promise<MaxApiClient> => {
    const apiKey = options.apiKey;
    if (!apiKey) return Promise.reject(new GrokImageError("GROK_NO_API_KEY", "No MaxAPI key is set."));
    client ??= import("../api/maxapi-client.js").then(({ createMaxApiClient }) =>
      createMaxApiClient({
        onRetry: (info) =>
          emit({
            type: "warn",
            message: `retrying ${info.phase} (attempt ${info.attempt}) in ${Math.round(info.delayMs)} ms: ${info.reason}`,
          }),
        // An http:// API on another host is said in the build's own log, not as a stray process warning.
        onWarning: (message) => emit({ type: "warn", message }),
        ...deps.client,
        apiKey,
        baseUrl: options.baseUrl,
      }),
    );
    return client;
  };

  function toError(error: unknown, use: DirectiveUse): GrokImageError {
    if (GrokImageError.isInstance(error)) return error;
    return new GrokImageError(
      "GROK_TASK_FAILED",
      `Generating ${use.directive.raw} failed: ${String(error)}`,
      {
        cause: error,
      },
    );
  }

  /**
   * What planning needs to know of these uses: the cache (the shared cache read through first), which keys it
   * holds, and which misses an earlier run already paid for. No network and no decoding when everything hits.
   */
  async function lookUp(uses: readonly DirectiveUse[]) {
    const store = await getCache();
    const wanted = uses.map((use) => use.directive.generationKey);
    await readThrough(shared, store, wanted, options.mode, emit, deps.signal);
    for (const use of uses) if (!seen.has(use.directive.raw)) seen.set(use.directive.raw, use);
    const isCached = (key: string) => store.lookup(key) !== undefined;
    // The journal only matters for misses: an all-hit batch does not read the pending directory.
    const pending = wanted.every(isCached)
      ? new Set<string>()
      : new Set((await store.listPending()).map((p) => p.key));
    return { store, isCached, pending };
  }

  async function prepare(uses: readonly DirectiveUse[], how: PrepareOptions = {}): Promise<BatchSummary> {
    const started = Date.now();
    const { store, isCached, pending } = await lookUp(uses);
    // Keys already being generated by an earlier prepare of this process are not planned twice.
    // A key that failed earlier in this process is not paid for again until the process restarts.
    // No await from here until the misses are marked "generating", so two prepare() calls never both plan a key.
    const fresh = uses.filter((u) => {
      const state = keys.get(u.directive.generationKey)?.state;
      return state !== "generating" && state !== "failed" && state !== "refused";
    });
    const plan = planBatch(fresh, isCached, pending);
    for (const key of plan.hits) keys.set(key, { state: "cached" });
    if (buildPlan) {
      // The build's plan has validated, priced and checked these before anything was paid. A miss it did not
      // know (a directive in a file the scan cannot see) is checked here, against what is left of the budget.
      const late = plan.misses.filter((key) => !buildPlan?.budgeted.has(key));
      const refusal = buildPlan.refusal ?? lateRefusal(plan, late);
      if (refusal) {
        for (const key of plan.misses) {
          keys.set(key, { state: "refused" });
          const planned = plan.generations.get(key) as PlannedGeneration;
          refused.set(key, [...(refused.get(key) ?? []), ...planned.uses]);
        }
        plan.misses.length = 0;
      } else if (options.mode === "generate") {
        charge(plan, late);
        for (const key of late) buildPlan.budgeted.add(key);
      }
    } else {
      emitPlan(uses.length, plan);
      checkBatch(plan, options, remainingBudget(ledger, options.maxCost));
      if (options.mode === "generate") charge(plan, plan.misses);
    }

    const summary: BatchSummary = {
      directives: uses.length,
      hits: plan.hits.length,
      generated: 0,
      placeholders: 0,
      failed: 0,
      costUsd: 0,
      ms: 0,
    };
    let generating: Promise<unknown> | undefined;
    if (options.mode === "placeholder") {
      for (const key of plan.misses) {
        keys.set(key, { state: "placeholder" });
        const raw = plan.generations.get(key)?.uses[0]?.directive.raw;
        emit({
          type: "warn",
          message: `${raw} is not cached: using a local placeholder image (mode "placeholder").`,
          reason: "placeholder",
        });
        summary.placeholders++;
      }
    } else {
      const work = plan.misses.map((key) =>
        limit(async () => {
          const planned = plan.generations.get(key);
          if (!planned) return;
          try {
            const outcome = await generateOne(key, planned.generation, await context(store, () => summary));
            settle(key, outcome.paidHere);
            keys.set(key, { state: outcome.paidHere ? "generated" : "cached" });
            if (outcome.paidHere) summary.generated++;
            else summary.hits++;
          } catch (error) {
            // Whatever the failure, a task may have been paid: its share stays spent.
            settle(key, true);
            const failure = toError(error, planned.uses[0] as DirectiveUse);
            keys.set(key, { state: "failed", error: failure });
            summary.failed++;
            emit({
              type: "task",
              key,
              prompt: planned.generation.prompt,
              model: planned.generation.model,
              state: "failed",
              ...(failure.taskId ? { taskId: failure.taskId } : {}),
              detail: failure.message.split("\n")[0] as string,
            });
          }
        }),
      );
      // Each key is done when its own generation is: its variants are derived as its original arrives.
      plan.misses.forEach((key, i) => {
        keys.set(key, { state: "generating", promise: work[i] as Promise<void> });
      });
      generating = Promise.all(work);
    }
    const finish = async () => {
      await generating;
      // Wait for keys another prepare() of this process is still generating, so images() finds them done.
      await Promise.all(
        uses.map((u) => {
          const s = keys.get(u.directive.generationKey);
          return s?.state === "generating" ? s.promise : undefined;
        }),
      );
      summary.ms = Date.now() - started;
      addTo(totals, summary);
      if (!buildPlan) emit({ type: "summary", summary });
      return summary;
    };
    if (!how.background) return finish();
    // Every key is decided by now (generating, refused, placeholder); the work goes on without the caller.
    void finish();
    return summary;
  }

  async function start(use: DirectiveUse): Promise<Running | undefined> {
    const key = use.directive.generationKey;
    seen.set(use.directive.raw, use);
    let state = keys.get(key);
    if (!state || state.state === "missing") {
      await prepare([use], { background: true });
      state = keys.get(key);
    }
    // Wrapped: an async function cannot resolve to a promise without waiting for it.
    return state?.state === "generating" ? { done: state.promise } : undefined;
  }

  async function refresh(): Promise<string[]> {
    const store = await getCache();
    await store.refresh();
    const filled = new Set<string>();
    for (const { directive } of seen.values()) {
      const key = directive.generationKey;
      const state = keys.get(key)?.state ?? "missing";
      if (state === "cached" || state === "generated" || state === "generating") continue;
      if (!store.lookup(key)) continue;
      keys.set(key, { state: "cached" });
      refused.delete(key);
      filled.add(key);
    }
    return [...filled];
  }

  function retry(key: string): boolean {
    if (keys.get(key)?.state !== "failed") return false;
    keys.delete(key);
    // Paid again, so checked against what is left of the budget again.
    buildPlan?.budgeted.delete(key);
    return true;
  }

  async function originals(key: string): Promise<string[] | undefined> {
    const store = await getCache();
    return store.lookup(key)?.originals.map((original) => store.originalPath(original));
  }

  function emitPlan(
    directives: number,
    plan: BatchPlan,
    recordedKeys: ReadonlySet<string> = new Set(),
  ): void {
    let recordedOnly = 0;
    for (const key of recordedKeys) if (!plan.generations.has(key)) recordedOnly++;
    emit({
      type: "plan",
      directives,
      generations: plan.generations.size + recordedOnly,
      hits: plan.hits.length + recordedOnly,
      misses: plan.misses.length,
      estimatedCostUsd: plan.estimatedCostUsd,
    });
  }

  /** The refusal of misses the plan did not know, if paying for them would break the mode or the budget. */
  function lateRefusal(plan: BatchPlan, late: readonly string[]): GrokImageError | undefined {
    if (late.length === 0) return undefined;
    const only = planBatch(
      late.flatMap((key) => plan.generations.get(key)?.uses ?? []),
      () => false,
      plan.resumable,
    );
    try {
      checkBatch(only, options, remainingBudget(ledger, options.maxCost));
      return undefined;
    } catch (error) {
      if (GrokImageError.isInstance(error)) return error;
      throw error;
    }
  }

  async function plan(uses: readonly DirectiveUse[], how: PlanOptions = {}): Promise<void> {
    // A project that writes no directive has nothing to look up: its cache is neither opened nor made. One whose
    // every generation the hit record holds has its manifest as the record was made: all are hits.
    const record = await getRecord();
    const recorded =
      uses.length > 0 &&
      record !== undefined &&
      uses.every((use) => record.holds(use.directive.generationKey));
    if (recorded) for (const use of uses) if (!seen.has(use.directive.raw)) seen.set(use.directive.raw, use);
    const { isCached, pending } =
      uses.length === 0 || recorded
        ? { isCached: () => recorded, pending: new Set<string>() }
        : await lookUp(uses);
    const whole = planBatch(uses, isCached, pending);
    for (const key of whole.hits) keys.set(key, { state: "cached" });
    // Directives the scan left unparsed, the record holding them: hits of a manifest that has not changed.
    const recordedKeys = new Set<string>();
    for (const raw of how.recorded ?? []) {
      const key = record?.keyOf(raw);
      if (key === undefined) continue;
      recordedKeys.add(key);
      if (!keys.has(key)) keys.set(key, { state: "cached" });
    }
    emitPlan(uses.length + (how.recorded?.length ?? 0), whole, recordedKeys);
    // Their files are checked now, not as each page that imports them is transformed (hit-record.ts).
    if (how.recorded) record?.check(how.recorded);
    const remainingUsd = remainingBudget(ledger, options.maxCost);
    let refusal: GrokImageError | undefined;
    try {
      // Paying as loaded, the mode is checked now and the budget load by load, against what is left of it.
      checkBatch(whole, options, how.payAsLoaded ? null : remainingUsd);
    } catch (error) {
      if (!GrokImageError.isInstance(error)) throw error;
      refusal = error;
    }
    const reserve = !refusal && !how.payAsLoaded;
    if (reserve && options.mode === "generate") charge(whole, whole.misses);
    buildPlan = { budgeted: new Set(reserve ? whole.misses : []), refusal, remainingUsd };
  }

  /**
   * One report of every refused miss the build loaded. The misses are checked again on their own, so the list and
   * its cost are exactly what this build needs; a budget that those alone fit was refused for the whole plan, and
   * that report (every miss of the project's files) stands.
   */
  function refusal(): GrokImageError | undefined {
    if (refused.size === 0) return undefined;
    const used = planBatch([...refused.values()].flat(), () => false, new Set());
    try {
      checkBatch(
        used,
        options,
        buildPlan?.refusal ? buildPlan.remainingUsd : remainingBudget(ledger, options.maxCost),
      );
    } catch (error) {
      if (GrokImageError.isInstance(error)) return error;
      throw error;
    }
    return buildPlan?.refusal;
  }

  /** Emits one summary of everything since the last report, if anything was loaded. */
  function report(): void {
    const summary = totals;
    summary.ms = Date.now() - totalsSince;
    totals = newSummary();
    totalsSince = Date.now();
    if (summary.directives > 0) emit({ type: "summary", summary });
  }

  async function cachedImages(use: DirectiveUse): Promise<ReadyImage[] | undefined> {
    const { directive } = use;
    const key = directive.generationKey;
    const state = keys.get(key)?.state;
    if (state !== undefined && state !== "cached" && state !== "generated") return undefined;
    const store = await getCache();
    const entry = store.lookup(key);
    if (!entry) return undefined;
    const status = state === "generated" ? "generated" : "cached";
    const record = status === "cached" ? await getRecord() : undefined;
    const identities = record && new Map<string, string>();
    let ready = verifiedImages(directive, entry, status, store, options, identities);
    if (ready && identities) record?.remember(directive, ready, identities);
    try {
      ready ??= await deriveImages(directive, entry, status, store, options, warnDamaged);
    } catch (error) {
      // A damaged original is repaired (or paid for again) by images(), once the plan allows.
      if (GrokImageError.isInstance(error) && error.code === "GROK_CACHE_CORRUPT") return undefined;
      throw error;
    }
    if (!seen.has(directive.raw)) seen.set(directive.raw, use);
    if (state === undefined) keys.set(key, { state: "cached" });
    totals.directives++;
    if (status === "cached") totals.hits++;
    return ready;
  }

  async function images(use: DirectiveUse): Promise<ReadyImage[]> {
    const { directive } = use;
    const key = directive.generationKey;
    seen.set(directive.raw, use);
    let state = keys.get(key);
    if (!state || state.state === "missing") {
      await prepare([use]);
      state = keys.get(key);
    } else if (state.state === "generating") {
      await state.promise;
      state = keys.get(key);
    }
    if (state?.state === "refused") {
      const list = refused.get(key) ?? [];
      if (!list.includes(use)) refused.set(key, [...list, use]);
      throw refusal() ?? new GrokImageError("GROK_FROZEN_MISS", `${directive.raw} is not in the cache.`);
    }
    // A failed directive is one of the summary's directives too: its line is what shows the failure's cost.
    totals.directives++;
    if (state?.state === "failed") {
      const error = state.error;
      error.importer ??= use.importer;
      throw error;
    }
    if (state?.state === "placeholder") {
      totals.placeholders++;
      return placeholderImages(directive, options);
    }
    const store = await getCache();
    const entry = store.lookup(key);
    if (!entry) {
      throw corruptError(
        directive,
        new Error(`its entry is missing from ${join(options.cacheDir, "manifest.json")}`),
      );
    }
    const status = state?.state === "generated" ? "generated" : "cached";
    if (status === "cached") totals.hits++;
    try {
      return (
        verifiedImages(directive, entry, status, store, options) ??
        (await deriveImages(directive, entry, status, store, options, warnDamaged))
      );
    } catch (error) {
      if (!GrokImageError.isInstance(error) || error.code !== "GROK_CACHE_CORRUPT") throw error;
      // A manifest kept in git with its images in the shared cache comes here on every fresh machine: no warning.
      if (await restoreFromShared(shared, store, key, entry, deps.signal)) {
        return deriveImages(directive, entry, status, store, options);
      }
      if (options.mode !== "generate" || !options.apiKey) {
        // No request in these modes, but an intact copy on disk costs nothing.
        const repaired = await repairEntry(entry, {
          cache: store,
          emit,
          signal: deps.signal,
          timeoutMs: options.timeoutMs,
        });
        if (!repaired) throw corruptError(directive, error);
        return deriveImages(directive, entry, status, store, options, warnDamaged);
      }
      emit({
        type: "warn",
        message: `${formatError(error)}\nLooking for an intact copy of it before generating ${directive.raw} again (a new paid task).`,
      });
      let outcome: GenerateOutcome;
      try {
        outcome = await limit(async () =>
          generateOne(key, directive.generation, await context(store, () => totals), {
            regenerate: "its cached original is damaged",
          }),
        );
      } catch (failed) {
        const failure = toError(failed, use);
        keys.set(key, { state: "failed", error: failure });
        totals.failed++;
        if (status === "cached") totals.hits--;
        throw failure;
      }
      if (outcome.paidHere) {
        keys.set(key, { state: "generated" });
        totals.generated++;
        if (status === "cached") totals.hits--;
      }
      const now = outcome.paidHere ? "generated" : status;
      return deriveImages(directive, outcome.entry, now, store, options, warnDamaged);
    }
  }

  function statuses(): DirectiveStatus[] {
    return [...seen.values()].map(({ directive, importer }) => {
      const s = keys.get(directive.generationKey);
      return {
        raw: directive.raw,
        importer,
        prompt: directive.generation.prompt,
        model: directive.generation.model,
        generationKey: directive.generationKey,
        state: s?.state ?? "missing",
        estimatedCostUsd: estimateCost(directive.generation),
        ...(s?.state === "failed" ? { error: formatError(s.error) } : {}),
        ...(s?.state === "failed" && s.error.taskId ? { taskId: s.error.taskId } : {}),
      };
    });
  }

  return {
    options,
    plan,
    prepare,
    images,
    cachedImages,
    statuses,
    start,
    refresh,
    retry,
    originals,
    recorded: getRecord,
    recordedImages: async (raw, handoffFor) => {
      const hit = (await getRecord())?.hit(raw);
      if (!hit || !recordedHolds(hit, handoffFor)) return undefined;
      countRecorded(hit);
      return hit;
    },
    recordedModule: async (id, codeHash, code, handoffFor) => {
      const module = (await getRecord())?.module(id, codeHash, code);
      if (!module?.directives.every((hit) => recordedHolds(hit, handoffFor))) return undefined;
      for (const hit of module.directives) countRecorded(hit);
      return module;
    },
    rememberModule: async (id, codeHash, raws, splices) => {
      (await getRecord())?.rememberModule(id, codeHash, raws, splices);
    },
    isRefused: (key) => keys.get(key)?.state === "refused",
    refusal,
    report,
    failure: (key) => {
      const s = keys.get(key);
      return s?.state === "failed" ? s.error : undefined;
    },
    close: async () => {
      // Reopenable: a later batch of the same engine creates a fresh client.
      const closing = client;
      client = undefined;
      await (await closing?.catch(() => undefined))?.close();
      await shared?.close();
      await (await cache?.catch(() => undefined))?.saveVerifiedVariants();
      await saveRecord().catch(() => {});
      // Saved, the record is let go: what follows the bundling (Astro renders every page) allocates the most, and
      // its full collections would mark the thousands of entries again for nothing. A later environment of the same
      // build that loads a directive reads the file just written.
      hitRecord = undefined;
    },
  };
}
