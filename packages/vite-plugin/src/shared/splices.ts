/** `[start, end, text]`: the code from `start` to `end` is replaced by `text`. */
export type Splice = readonly [number, number, string];

/**
 * `code` with each splice's span replaced by its text, in one pass (a page of 20 images would otherwise be copied 20
 * times over); undefined when the splices are not spans in order within it, each with its text (made from other
 * code, or a damaged record).
 */
export function applySplices(code: string, splices: readonly Splice[]): string | undefined {
  const parts: string[] = [];
  let from = 0;
  for (const [start, end, text] of splices) {
    if (typeof start !== "number" || typeof end !== "number" || typeof text !== "string") return undefined;
    if (!(start >= from && end >= start && end <= code.length)) return undefined;
    parts.push(code.slice(from, start), text);
    from = end;
  }
  parts.push(code.slice(from));
  return parts.join("");
}
