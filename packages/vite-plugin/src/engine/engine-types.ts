import type { MaxApiClientOptions } from "../api/maxapi-client.js";
import type { RecordedHit, RecordedModule } from "../cache/hit-record.js";
import type { KnownSources } from "../directive/scan-source.js";
import type { GrokImageError } from "../errors.js";
import type { Splice } from "../shared/splices.js";
import type { SharedCacheTuning } from "../storage/engine-hooks.js";
import type { Directive, GrokImage, OutputFormat, OutputShape, ResolvedOptions } from "../types.js";
import type { BudgetLedger } from "./budget.js";

/** A directive found in the project, with the file that uses it (for error messages). */
export interface DirectiveUse {
  readonly directive: Directive;
  /** Absolute path of the importing module or Markdown file. */
  readonly importer?: string | undefined;
  /** 1-based line and column of the directive in `importer`, when a scan of the file found it. */
  readonly line?: number | undefined;
  readonly column?: number | undefined;
}

/** Where an image of a directive came from in this run. */
export type ImageStatus = "cached" | "generated" | "placeholder";

/** One ready image: a file on disk plus what the module exports about it (minus `src`, which the adapter decides). */
export interface ReadyImage extends Omit<GrokImage, "src"> {
  /** Absolute path of the derived file (in `variants/`, or a placeholder file). */
  readonly file: string;
  readonly format: OutputFormat;
  readonly status: ImageStatus;
  /**
   * `as=srcset|picture`: every file of the shape (each format at each width, widths clamped to the original's),
   * in `outputTransforms` order. Absent for `as=metadata`, and for placeholder-mode stand-ins (their one file
   * serves every size); a dev server's waiting images have one per output.
   */
  readonly outputs?: readonly ReadyOutput[];
}

/** One file of a responsive shape. */
export interface ReadyOutput {
  readonly file: string;
  readonly width: number;
  readonly height: number;
  readonly format: OutputFormat;
}

/** Progress events: adapters turn them into log lines (see `formatEvent`). Never carry the API key. */
export type EngineEvent =
  | {
      type: "plan";
      directives: number;
      generations: number;
      hits: number;
      misses: number;
      estimatedCostUsd: number;
    }
  | {
      type: "task";
      key: string;
      prompt: string;
      model: string;
      /** submitted, resumed, PENDING/PROCESSING/SUBMITTED (as the API says), downloading, done, failed, retrying */
      state: string;
      taskId?: string;
      detail?: string;
    }
  | {
      type: "warn";
      message: string;
      /** Set on the per-directive notice of placeholder mode, which a host may fold into one warning. */
      reason?: "placeholder";
    }
  | { type: "summary"; summary: BatchSummary };

export interface BatchSummary {
  directives: number;
  hits: number;
  generated: number;
  placeholders: number;
  failed: number;
  costUsd: number;
  ms: number;
}

/** What the dev review page shows for each directive the engine has seen. */
export interface DirectiveStatus {
  readonly raw: string;
  readonly importer?: string | undefined;
  readonly prompt: string;
  readonly model: string;
  readonly generationKey: string;
  readonly state: "cached" | "generating" | "generated" | "failed" | "placeholder" | "missing" | "refused";
  readonly error?: string;
  readonly estimatedCostUsd: number;
  readonly taskId?: string;
}

export interface Engine {
  readonly options: ResolvedOptions;
  /**
   * Make sure every generation of these directives is in the cache, as ONE batch: dedupe by generation key, look up
   * hits (no network, no decoding), apply mode and maxCost to all misses before any submit, then generate misses
   * `concurrency` at a time. Batch-level refusals (frozen misses, budget, no API key) throw one GrokImageError that
   * lists every directive concerned. Per-directive failures do not throw here: they are recorded and rethrown by
   * `images()` for that directive, so one bad prompt fails its own module with its own message.
   */
  prepare(uses: readonly DirectiveUse[], how?: PrepareOptions): Promise<BatchSummary>;
  /**
   * Plans a whole build from every directive found up front (a scan of the project's files), before anything is
   * paid: dedupe, hits and misses, and the mode and `maxCost` checks over all misses at once, with one plan line.
   * Never throws a refusal: from then on, a refused miss is never submitted, `images()` rejects for it, and
   * `refusal()` reports every refused miss the build loaded. Misses the plan allowed are budgeted already and
   * start generating the moment they load, one by one, with no batch window; a directive the plan did not know
   * is checked on its own against what is left of the budget.
   */
  plan(uses: readonly DirectiveUse[], how?: PlanOptions): Promise<void>;
  /**
   * What this machine's last build loaded its hits as (`hitRecord`), while it holds: which directives (as written)
   * it holds, so a build's scan need not parse them, and what the last scan found in each source file, so it need
   * not read those that did not change. Undefined without `hitRecord`.
   */
  recorded(): Promise<{ keyOf(raw: string): string | undefined; readonly sources: KnownSources } | undefined>;
  /**
   * The images of a directive (as written) from the hit record, without parsing it or opening the cache, when the
   * record holds it, every file is as recorded, and it was handed over as `handoffFor` says a directive of its shape
   * is (`Directive.handoff`). Counted as a hit, as `cachedImages` counts one.
   */
  recordedImages(
    raw: string,
    handoffFor: (as: OutputShape) => "encoded" | "source",
  ): Promise<RecordedHit | undefined>;
  /**
   * In a build, the module `id` (its `code` hashing to `codeHash`) rewritten as the last time its code hashed so,
   * when the hit record holds every directive it imports as `recordedImages` would answer it, with the entry the
   * rewrite was made from. Each directive counts as a hit.
   */
  recordedModule(
    id: string,
    codeHash: string,
    code: string,
    handoffFor: (as: OutputShape) => "encoded" | "source",
  ): Promise<RecordedModule | undefined>;
  /**
   * Records what the module `id` (its code hashing to `codeHash`) was rewritten into, when every directive it
   * imports (`raws`, as written) was answered from the hit record or recorded by this build.
   */
  rememberModule(
    id: string,
    codeHash: string,
    raws: readonly string[],
    splices: readonly Splice[],
  ): Promise<void>;
  /** Whether the plan refused this generation key (its `images()` rejects with the build's refusal). */
  isRefused(generationKey: string): boolean;
  /** One error listing every refused miss loaded so far (frozen, no key, budget), or undefined. */
  refusal(): GrokImageError | undefined;
  /** Emits one summary event for everything loaded since the last report (a planned build, per environment). */
  report(): void;
  /**
   * The images of one directive (all `n`), derived with sharp once and reused afterwards. Runs `prepare([use])`
   * first when the directive was not part of a batch (e.g. a dynamic import found late).
   */
  images(use: DirectiveUse): Promise<ReadyImage[]>;
  /**
   * The images of a directive whose generation the local cache holds, as `images()` gives them, without a plan or
   * a batch: nothing can be paid here, so a build need not have checked its directives yet. Undefined when the
   * cache does not hold it, or holds a damaged original (which `images()` repairs, once the plan allows).
   */
  cachedImages(use: DirectiveUse): Promise<ReadyImage[] | undefined>;
  /** Every directive seen so far (dev review page). */
  statuses(): DirectiveStatus[];
  /**
   * Starts what `images()` would wait for, without waiting for it (a dev server that answers at once). Resolves as
   * soon as the directive's generation is decided: to its running generation when one runs, or to `undefined`
   * when `images()` would not wait (a hit, a refused or failed miss, placeholder mode).
   */
  start(use: DirectiveUse): Promise<Running | undefined>;
  /**
   * Reads the cache's manifest again (another process, such as `grok-image generate`, may have filled it) and
   * returns the generation keys of seen directives it now holds that this engine had not (missing, refused, failed
   * or placeholders): their `images()` now answer from the cache.
   */
  refresh(): Promise<string[]>;
  /**
   * Forgets the failure of a generation key so its next load pays for it again (a workbench "retry"), checked
   * against what is left of the budget like any new miss. False when the key has not failed.
   */
  retry(generationKey: string): boolean;
  /** Absolute paths of the cached originals of a generation key, in the task's order; undefined when not cached. */
  originals(generationKey: string): Promise<string[] | undefined>;
  /** The error recorded for a directive, if it failed. */
  failure(generationKey: string): GrokImageError | undefined;
  close(): Promise<void>;
}

/** A generation running in the background. */
export interface Running {
  /** Settles when it ends; never rejects (a failure is kept for `images()`). */
  readonly done: Promise<void>;
}

export interface PrepareOptions {
  /**
   * Return once every miss is decided (generating, refused, placeholder) instead of when the batch is done; the
   * summary is reported when the work ends. @default false
   */
  background?: boolean;
}

export interface PlanOptions {
  /**
   * Reserve nothing up front: each miss is checked against what is left of the budget when it loads (a dev server,
   * whose budget is spent as pages ask, not on everything the project holds). @default false
   */
  payAsLoaded?: boolean;
  /**
   * Directives found in the project (as written) that the scan did not parse, the hit record holding them: hits,
   * counted in the plan. @default none
   */
  recorded?: readonly string[];
}

export interface EngineDeps {
  onEvent?: (event: EngineEvent) => void;
  /** Cancels every request and sleep of the engine (a stopped dev server, Ctrl-C in the CLI). */
  signal?: AbortSignal;
  /** Transport and timing of the MaxAPI client: tests and benchmarks shorten poll and retry delays here. */
  client?: Omit<MaxApiClientOptions, "apiKey" | "baseUrl">;
  /**
   * What the build has committed to spend so far. Pass one ledger to every engine of one build (a Vite build
   * creates one per environment) so `maxCost` bounds the whole build. @default a ledger of this engine alone
   */
  budget?: BudgetLedger;
  /** Timings and transport of the shared cache (`remoteCache`): tests shorten heartbeats and staleness here. */
  sharedCache?: SharedCacheTuning;
  /**
   * Answer hits from the record of what this machine's last build loaded them as, and leave one
   * (cache/hit-record.ts): a build's engine. A dev server's files change under it, and it plans on first use.
   * @default false
   */
  hitRecord?: boolean;
}
