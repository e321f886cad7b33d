import type { EngineEvent } from "../engine/engine-types.js";
import { formatEvent } from "../engine/format-event.js";
import { isCi, type OutputStream } from "./cli-io.js";

/** Turns engine events into output while `grok-image generate` runs. */
export interface Progress {
  onEvent(event: EngineEvent): void;
  /** Clears the live line and stops its clock. Safe to call twice. */
  stop(): void;
}

export interface ProgressOptions {
  /** Force the live line on or off. @default a TTY without CI set */
  live?: boolean;
  /** Redraw interval of the elapsed time, in ms. @default 1000 */
  tickMs?: number;
}

const BAR_WIDTH = 20;
/** States worth a line of their own above the live counter. */
const LOUD_STATES = new Set(["failed", "retrying", "resumed"]);

/**
 * A live one-line counter on a terminal, one plain line per event elsewhere (CI logs, pipes, files).
 *
 * The live line is a `\r` redraw of one line rather than a progress-bar library: the engine reports a handful
 * of state changes per task, so a single redrawn line plus ordinary lines above it for warnings and failures is
 * all that is needed, and it leaves no terminal state behind if the process is killed.
 */
export function createProgress(
  stream: OutputStream,
  env: NodeJS.ProcessEnv,
  options: ProgressOptions = {},
): Progress {
  const live = options.live ?? (stream.isTTY === true && !isCi(env));
  if (!live) {
    return {
      onEvent(event) {
        if (event.type === "summary") return;
        const line = formatEvent(event);
        if (line) stream.write(`${line}\n`);
      },
      stop() {},
    };
  }

  const started = Date.now();
  const running = new Set<string>();
  let total = 0;
  let done = 0;
  let failed = 0;
  let last = "";
  let shown = false;
  let timer: ReturnType<typeof setInterval> | undefined;

  const clear = () => {
    if (shown) stream.write("\r\x1b[2K");
    shown = false;
  };
  const draw = () => {
    if (total === 0) return;
    const finished = done + failed;
    const filled = Math.round((finished / total) * BAR_WIDTH);
    const parts = [`${finished}/${total}`];
    if (failed > 0) parts.push(`${failed} failed`);
    if (running.size > 0) parts.push(`${running.size} running`);
    parts.push(`${Math.round((Date.now() - started) / 1000)}s`);
    let line = `[${"█".repeat(filled)}${"░".repeat(BAR_WIDTH - filled)}] ${parts.join(" · ")}${last ? `  ${last}` : ""}`;
    // A line that wraps cannot be redrawn with `\r`: keep it inside the terminal.
    // Some pseudo-terminals report 0 columns: fall back to the classic 80.
    const width = (stream.columns && stream.columns >= 20 ? stream.columns : 80) - 1;
    if (line.length > width) line = `${line.slice(0, Math.max(0, width - 1))}…`;
    stream.write(`\r\x1b[2K${line}`);
    shown = true;
  };
  const print = (text: string) => {
    clear();
    stream.write(`${text}\n`);
    draw();
  };

  return {
    onEvent(event) {
      switch (event.type) {
        case "plan":
          total = event.misses;
          print(formatEvent(event) ?? "");
          if (total > 0 && !timer) {
            timer = setInterval(() => {
              if (shown) draw();
            }, options.tickMs ?? 1000);
            timer.unref();
          }
          return;
        case "task": {
          const state = event.state.toLowerCase();
          if (state === "done" || state === "failed") {
            running.delete(event.key);
            if (state === "done") done++;
            else failed++;
          } else running.add(event.key);
          // A state that adds nothing (the API's PENDING after "submitted") keeps the last line that did.
          last = formatEvent(event) ?? last;
          if (LOUD_STATES.has(state)) print(last);
          else draw();
          return;
        }
        case "warn":
          print(event.message);
          return;
        case "summary":
          return;
      }
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      clear();
    },
  };
}
