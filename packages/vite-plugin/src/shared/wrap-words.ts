/**
 * Word-wraps `text` to lines of at most `width` characters, at most `maxLines` (the last one ellipsized): a
 * prompt drawn into an SVG, which has no text wrapping of its own (the cache's placeholders, the dev server's
 * waiting images). A word longer than a line is cut.
 */
export function wrapWords(text: string, width: number, maxLines: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const piece = word.length > width ? `${word.slice(0, width - 1)}…` : word;
    if (line && line.length + 1 + piece.length > width) {
      lines.push(line);
      line = piece;
    } else line = line ? `${line} ${piece}` : piece;
  }
  if (line) lines.push(line);
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, maxLines);
  kept[maxLines - 1] = `${(kept[maxLines - 1] as string).slice(0, width - 1)}…`;
  return kept;
}
