import type { BatchSummary, EngineEvent } from "./engine-types.js";

/** USD with enough digits for sub-cent prices ($0.001 per lite image). */
export function formatUsd(usd: number): string {
  return `$${usd.toFixed(usd > 0 && usd < 0.01 ? 4 : 2)}`;
}

function quote(prompt: string): string {
  return JSON.stringify(prompt.length > 48 ? `${prompt.slice(0, 47)}…` : prompt);
}

export function formatSummary(s: BatchSummary): string {
  const parts = [
    `${s.directives} directive${s.directives === 1 ? "" : "s"}`,
    `${s.hits} cached`,
    `${s.generated} generated`,
  ];
  if (s.placeholders > 0) parts.push(`${s.placeholders} placeholder${s.placeholders === 1 ? "" : "s"}`);
  parts.push(`${s.failed} failed`, formatUsd(s.costUsd), `${(s.ms / 1000).toFixed(1)}s`);
  return parts.join(" · ");
}

/**
 * One log line per engine event, shared by the Vite plugin, the Astro integration and the CLI so every surface
 * reports progress the same way. Returns undefined for events not worth a line.
 */
export function formatEvent(event: EngineEvent): string | undefined {
  switch (event.type) {
    case "plan":
      if (event.misses === 0) return `${event.directives} directives, all ${event.hits} generations cached`;
      return `${event.directives} directives → ${event.generations} generations: ${event.hits} cached, ${event.misses} to generate (about ${formatUsd(event.estimatedCostUsd)})`;
    case "task": {
      const id = event.taskId ? ` task ${event.taskId}` : "";
      const detail = event.detail ? ` (${event.detail})` : "";
      return `${event.state.toLowerCase()} ${quote(event.prompt)} [${event.model.replace("grok-imagine/text-to-image-", "")}]${id}${detail}`;
    }
    case "warn":
      return event.message;
    case "summary":
      return formatSummary(event.summary);
  }
}
