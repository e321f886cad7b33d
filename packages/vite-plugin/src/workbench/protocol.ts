/*
 * What the dev server and the browser code it serves (the dev client, the workbench) say to each other: HMR custom
 * events and the workbench's state. Types and constants only, shared by both sides: the browser code is compiled on
 * its own (tsconfig.client.json, with the DOM library) and this file is the one thing the two programs share.
 */

/** The dev client, a virtual module: a page that shows a waiting image imports it (or the host injects it). */
export const DEV_CLIENT_ID = "virtual:grok-image/dev-client";

/** Server to page: these waiting images have their real image now. */
export const READY_EVENT = "grok-image:ready";
/** Server to page: these waiting images will not get one (the generation failed). */
export const FAILED_EVENT = "grok-image:failed";
/** Page to server: the waiting images this page shows; the server answers with those already done. */
export const HELLO_EVENT = "grok-image:hello";

/** One waiting image and the real image that replaces it. */
export interface ImageSwap {
  /** The waiting image's name (`grok-generating-…`), as it appears in the page's URLs. */
  readonly name: string;
  /** The waiting image's size, to tell whether the shape changed. */
  readonly fromWidth: number;
  readonly fromHeight: number;
  /** The dev-server URL of the real file (`/@fs/…`, which Astro's `/_image?href=` accepts as well). */
  readonly src: string;
  readonly width: number;
  readonly height: number;
  /** The file's format as Astro names it in `origFormat` (`jpg`, not `jpeg`). */
  readonly format: string;
}

export interface ReadyPayload {
  readonly swaps: readonly ImageSwap[];
}

export interface FailedPayload {
  /** Waiting image names. */
  readonly names: readonly string[];
  /** What went wrong, one line, for the image's tooltip. */
  readonly message: string;
}

export interface HelloPayload {
  readonly names: readonly string[];
}

export type WorkbenchStateName =
  | "cached"
  | "queued"
  | "generating"
  | "failed"
  /** Not generated: the budget, `frozen` mode or a missing key refused it. */
  | "refused"
  /** Not generated: placeholder mode (no key), or no page asked for it yet. */
  | "placeholder"
  | "missing"
  /** The directive does not parse. */
  | "invalid";

export interface WorkbenchDirective {
  /** Stable while the directive stays where it is: file, line, column and text. */
  readonly id: string;
  /** Absolute path, and as shown (relative to the root). */
  readonly file?: string;
  readonly shownFile?: string;
  readonly line?: number;
  readonly column?: number;
  /** The directive as written. */
  readonly raw: string;
  readonly prompt?: string;
  readonly model?: string;
  readonly n?: number;
  readonly pick?: number;
  readonly v?: string | null;
  readonly key?: string;
  readonly state: WorkbenchStateName;
  /** Milliseconds since the task was submitted (generating) or since a page asked (queued). */
  readonly elapsedMs?: number;
  readonly taskId?: string;
  readonly error?: { readonly code: string; readonly message: string; readonly hint?: string };
  /** What one generation of it costs (a reroll costs the same). */
  readonly costUsd?: number;
  /** Dev URLs of the task's `n` originals, in order (`pick=k` is the kth). */
  readonly takes: readonly string[];
  /** Names of the files a page shows for it (variants, waiting images): how the toolbar finds a page's ones. */
  readonly shown: readonly string[];
  /** Whether an action may edit it: it is written in a project file at a known place. */
  readonly editable: boolean;
}

export interface WorkbenchState {
  readonly root: string;
  readonly mode: string;
  /** What this dev server has committed to spend since it started, and its budget. */
  readonly budget: { readonly spentUsd: number; readonly maxUsd: number | null };
  readonly directives: readonly WorkbenchDirective[];
}
