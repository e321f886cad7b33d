import { readFile, writeFile } from "node:fs/promises";

/*
 * The workbench's source edits: one directive's text, in place, and only when the file still holds it exactly as
 * the workbench showed it. Everything else in the file (formatting, other directives, line endings) stays as it is.
 */

/** A directive where the workbench saw it. */
export interface DirectiveAt {
  /** Absolute path of the file. */
  readonly file: string;
  /** 1-based line and column of the directive's first character (the `g` of `grok:`). */
  readonly line: number;
  readonly column: number;
  /** The directive as written there. */
  readonly raw: string;
}

/** Why an edit was refused; `stale` means the file changed since the workbench read it. */
export class EditRefused extends Error {
  override name = "EditRefused";
  readonly stale: boolean;
  constructor(message: string, stale: boolean) {
    super(message);
    this.stale = stale;
  }
}

/** Index of the `?` that starts the params; a `?` escaped as `\?` is part of the prompt (parse-directive.ts). */
function queryStart(raw: string): number {
  for (let i = 0; i < raw.length; i++) if (raw[i] === "?" && raw[i - 1] !== "\\") return i;
  return -1;
}

function decodedName(segment: string): string {
  const eq = segment.indexOf("=");
  const name = (eq === -1 ? segment : segment.slice(0, eq)).trim();
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}

/**
 * `raw` with the parameter `name` set to `value` where it is written (or appended), or removed when `value` is
 * undefined. The other parameters keep their order and spelling.
 */
export function withParam(raw: string, name: string, value: string | undefined): string {
  const at = queryStart(raw);
  const head = at === -1 ? raw : raw.slice(0, at);
  const segments = at === -1 ? [] : raw.slice(at + 1).split("&");
  const out: string[] = [];
  let written = false;
  for (const segment of segments) {
    if (decodedName(segment) !== name) {
      out.push(segment);
      continue;
    }
    if (value !== undefined && !written) out.push(`${name}=${value}`);
    written = true;
  }
  if (!written && value !== undefined) out.push(`${name}=${value}`);
  const query = out.filter((segment) => segment.trim() !== "");
  return query.length === 0 ? head : `${head}?${query.join("&")}`;
}

/** Offset of 1-based `line` and `column` in `source`, with lines broken as `locationOf` breaks them. */
function offsetOf(source: string, line: number, column: number): number | undefined {
  let at = 0;
  for (let n = 1; n < line; n++) {
    const rest = source.slice(at);
    const found = /\r\n|[\n\r]/.exec(rest);
    if (!found) return undefined;
    at += found.index + found[0].length;
  }
  const offset = at + column - 1;
  return Number.isInteger(offset) && column >= 1 && offset <= source.length ? offset : undefined;
}

/**
 * Replaces the directive `at` with `next` in its file. Refuses (EditRefused, `stale`) when the file no longer holds
 * `at.raw` at that line and column: the user edited it meanwhile, and the workbench must show it again first.
 */
export async function editDirective(at: DirectiveAt, next: string): Promise<void> {
  let source: string;
  try {
    source = await readFile(at.file, "utf8");
  } catch {
    throw new EditRefused(`${at.file} cannot be read any more; it may have been moved or deleted.`, true);
  }
  const offset = offsetOf(source, at.line, at.column);
  if (offset === undefined || !source.startsWith(at.raw, offset)) {
    throw new EditRefused(
      `${at.file}:${at.line}:${at.column} no longer holds ${at.raw} as written: the file changed since the workbench read it. Nothing was written; look at the directive again (or edit it by hand when it is written with string escapes).`,
      true,
    );
  }
  if (next === at.raw) return;
  await writeFile(at.file, source.slice(0, offset) + next + source.slice(offset + at.raw.length));
}
