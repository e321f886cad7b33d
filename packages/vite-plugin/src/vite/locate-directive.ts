import { readFile } from "node:fs/promises";
import { codeFrame, locationOf } from "../directive/code-frame.js";
import { findDirectives, languageOf } from "../directive/scan-source.js";
import type { DirectiveLocation } from "../errors.js";

/**
 * Where `raw` is written in `file` right now, with a code frame: what Vite's and Astro's overlays show beside an
 * error. Read from the file when the error happens, so a directive typed a second ago is found where it is.
 */
export async function locateDirective(
  file: string,
  raw: string,
): Promise<{ loc: DirectiveLocation; frame: string; written?: string } | undefined> {
  const source = await readFile(file, "utf8").catch(() => undefined);
  if (source === undefined) return undefined;
  const found = findDirectives(source, languageOf(file) ?? "auto").find((directive) => directive.raw === raw);
  if (!found) return undefined;
  const { line, column } = locationOf(source, found.index);
  const where = { loc: { file, line, column }, frame: codeFrame(source, line, column) };
  // A Markdown directive written with literal spaces reaches the bundler as %20: the error says it as written.
  return found.written === undefined ? where : { ...where, written: found.written };
}
