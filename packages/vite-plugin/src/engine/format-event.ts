import type { BatchSummary, EngineEvent } from "./engine-types.js";

/**
 * USD with enough digits for sub-cent prices ($0.001 per lite image): under a dollar, up to four decimals without
 * trailing zeros ($0.015, $0.0012, $0.02), so a cost reads the same in every log, listing and summary.
 */
export function formatUsd(usd: number): string {
  if (usd >= 1 || usd === 0) return `$${usd.toFixed(2)}`;
  return `$${usd.toFixed(4).replace(/0{1,2}$/, "")}`;
}

function quote(prompt: string): string {
  return JSON.stringify(prompt.length > 48 ? `${prompt.slice(0, 47)}…` : prompt);
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

export function formatSummary(s: BatchSummary): string {
  const parts = [plural(s.directives, "directive"), `${s.hits} cached`, `${s.generated} generated`];
  if (s.placeholders > 0) parts.push(plural(s.placeholders, "placeholder"));
  parts.push(`${s.failed} failed`, formatUsd(s.costUsd), `${(s.ms / 1000).toFixed(1)}s`);
  return parts.join(" · ");
}

/*
 * A task's log says each state a user cares about once: submitted (with the task id), generating when the API
 * says a worker has it, done or failed (with the reason), and the rare resumed, retrying and slow downloading.
 * The API's own statuses arrive as they are (upper case); most repeat what a line already said: PENDING and
 * SUBMITTED (queued, or waiting on the upstream model) are what "submitted" means to a user, and a terminal status
 * is followed by the engine's done or failed line. A status MaxAPI does not document is new information: it is
 * printed as it comes.
 */
const API_STATUS_WORDS: Readonly<Record<string, string | undefined>> = {
  PENDING: undefined,
  PROCESSING: "generating",
  SUBMITTED: undefined,
  SUCCESS: undefined,
  FAILURE: undefined,
  TIMEOUT: undefined,
  CANCELLED: undefined,
};

/** The word a task line starts with, or undefined when the state adds nothing to the lines before it. */
function stateWord(state: string): string | undefined {
  return Object.hasOwn(API_STATUS_WORDS, state) ? API_STATUS_WORDS[state] : state.toLowerCase();
}

/**
 * One log line per engine event, shared by the Vite plugin, the Astro integration and the CLI so every surface
 * reports progress the same way. Returns undefined for events not worth a line.
 */
export function formatEvent(event: EngineEvent): string | undefined {
  switch (event.type) {
    case "plan": {
      // A project (or a build environment) without any directive has nothing to report.
      if (event.directives === 0) return undefined;
      const directives = plural(event.directives, "directive");
      if (event.misses === 0)
        return `${directives}, ${event.hits === 1 ? "its generation" : `all ${event.hits} generations`} cached`;
      return `${directives} → ${plural(event.generations, "generation")}: ${event.hits} cached, ${event.misses} to generate (about ${formatUsd(event.estimatedCostUsd)})`;
    }
    case "task": {
      const word = stateWord(event.state);
      if (word === undefined) return undefined;
      const id = event.taskId ? ` task ${event.taskId}` : "";
      const detail = event.detail ? ` (${event.detail})` : "";
      return `${word} ${quote(event.prompt)} [${event.model.replace("grok-imagine/text-to-image-", "")}]${id}${detail}`;
    }
    case "warn":
      return event.message;
    case "summary":
      return event.summary.directives === 0 ? undefined : formatSummary(event.summary);
  }
}
