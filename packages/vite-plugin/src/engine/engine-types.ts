import type { MaxApiClientOptions } from "../api/maxapi-client.js";
import type { GrokImageError } from "../errors.js";
import type { Directive, GrokImage, OutputFormat, ResolvedOptions } from "../types.js";
import type { BudgetLedger } from "./budget.js";

/** A directive found in the project, with the file that uses it (for error messages). */
export interface DirectiveUse {
  readonly directive: Directive;
  /** Absolute path of the importing module or Markdown file. */
  readonly importer?: string | undefined;
}

/** Where an image of a directive came from in this run. */
export type ImageStatus = "cached" | "generated" | "placeholder";

/** One ready image: a file on disk plus what the module exports about it (minus `src`, which the adapter decides). */
export interface ReadyImage extends Omit<GrokImage, "src"> {
  /** Absolute path of the derived file (in `variants/`, or a placeholder file). */
  readonly file: string;
  readonly format: OutputFormat;
  readonly status: ImageStatus;
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
  readonly state: "cached" | "generating" | "generated" | "failed" | "placeholder" | "missing";
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
  prepare(uses: readonly DirectiveUse[]): Promise<BatchSummary>;
  /**
   * The images of one directive (all `n`), derived with sharp once and reused afterwards. Runs `prepare([use])`
   * first when the directive was not part of a batch (e.g. a dynamic import found late).
   */
  images(use: DirectiveUse): Promise<ReadyImage[]>;
  /** Every directive seen so far (dev review page). */
  statuses(): DirectiveStatus[];
  /** The error recorded for a directive, if it failed. */
  failure(generationKey: string): GrokImageError | undefined;
  close(): Promise<void>;
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
}
