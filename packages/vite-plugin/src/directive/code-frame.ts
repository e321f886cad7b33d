/*
 * Code frames as Babel prints them (and Vite shows them in its overlay), written out here because the format is
 * small and the libraries that print it are not dependencies of this package:
 *
 *     10 | ---
 *     11 | import Layout from "../layouts/Layout.astro";
 *   > 12 | import hero from "grok:a misty forest?with=960";
 *        |                   ^
 *     13 | ---
 *
 * Lines break at `\r\n`, `\n` and a lone `\r`, as editors count them, so a line and column found here is the one
 * an editor jumps to. Columns count UTF-16 code units, as JavaScript strings and Vite do.
 */

const LINE_BREAK = /\r\n|[\n\r]/;
/** Lines longer than this are shown as a window around the column, as Vite does. */
const MAX_WIDTH = 120;
/** How far into the window the column sits when a long line is cut. */
const LEAD = 40;

/** 1-based line and column of the character at `index` in `source` (clamped to the text). */
export function locationOf(source: string, index: number): { line: number; column: number } {
  return locator(source)(index);
}

/**
 * `locationOf` for many indices of one text: the line starts are found once, then each index is a binary search
 * (a page of many directives is not read again from its start for each).
 */
export function locator(source: string): (index: number) => { line: number; column: number } {
  const starts = [0];
  if (!source.includes("\r")) {
    // The common case, found by the engine's own search rather than a loop over every character: the scan
    // locates every directive of the project before a build's first image.
    for (let at = source.indexOf("\n"); at >= 0; at = source.indexOf("\n", at + 1)) starts.push(at + 1);
  } else {
    for (let i = 0; i < source.length; i++) {
      const char = source.charCodeAt(i);
      // \n, or a \r that no \n follows: the breaks locationOf counts.
      if (char === 10 || (char === 13 && source.charCodeAt(i + 1) !== 10)) starts.push(i + 1);
    }
  }
  return (index) => {
    const end = Math.max(0, Math.min(index, source.length));
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((starts[mid] as number) <= end) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, column: end - (starts[low] as number) + 1 };
  };
}

/**
 * A text frame of `source` around 1-based `line` and `column`: two lines of context each side, the line marked
 * with `>`, and a caret under the column. Out-of-range positions are clamped, so a stale location still frames
 * the nearest line.
 */
export function codeFrame(source: string, line: number, column: number): string {
  const lines = source.split(LINE_BREAK);
  const at = Math.min(Math.max(Math.trunc(line), 1), lines.length);
  const text = lines[at - 1] as string;
  const col = Math.min(Math.max(Math.trunc(column), 1), text.length + 1);
  const first = Math.max(1, at - 2);
  const last = Math.min(lines.length, at + 2);
  const width = String(last).length;
  const start = col - 1 > MAX_WIDTH - LEAD ? col - 1 - LEAD : 0;
  const out: string[] = [];
  for (let n = first; n <= last; n++) {
    const shown = clip(lines[n - 1] as string, start);
    out.push(`${n === at ? ">" : " "} ${String(n).padStart(width)} |${shown === "" ? "" : ` ${shown}`}`);
    if (n === at) {
      // Tabs stay tabs, so the caret lines up however wide the terminal draws them.
      const before = (start > 0 ? "…" : "") + text.slice(start, col - 1);
      out.push(`  ${" ".repeat(width)} | ${before.replace(/[^\t]/g, " ")}^`);
    }
  }
  return out.join("\n");
}

/** The part of a line shown from `start`, at most MAX_WIDTH wide, with `…` where it was cut. */
function clip(text: string, start: number): string {
  if (start === 0 && text.length <= MAX_WIDTH) return text;
  const head = start > 0 ? "…" : "";
  const body = text.slice(start, start + MAX_WIDTH - head.length);
  return start + body.length < text.length ? `${head}${body.slice(0, -1)}…` : head + body;
}
