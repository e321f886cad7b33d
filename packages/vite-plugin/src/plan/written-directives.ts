import { readFile } from "node:fs/promises";
import path from "node:path";
import { parseDirective } from "../directive/parse-directive.js";
import { findDirectives, languageOf } from "../directive/scan-source.js";
import type { Directive, ResolvedOptions } from "../types.js";

/*
 * What a dev server may pay for: only directives written in the project's own files. A dev server answers any
 * request (a page open in another tab can load `http://localhost:5173/@id/grok:...` as an <img>, and with `--host`
 * so can any machine on the network), so the request itself proves nothing. The file does: a directive counts as
 * written when the project scan found it, or when the file that imports it holds it on disk right now (a directive
 * just typed into a component, a module outside the root the site imports). The key decides, so every spelling of
 * a written directive counts, and a `v=` nobody wrote does not.
 */

export interface WrittenDirectives {
  /** Whether `directive` is written in a project file; `importer` is the file that imports it, when known. */
  isWritten(directive: Directive, importer: string | undefined): Promise<boolean>;
}

/** Dependencies may mention `grok:` in their own files; that is not the project writing it. */
const DEPENDENCY = `${path.sep}node_modules${path.sep}`;

export function writtenDirectives(
  scannedKeys: Iterable<string>,
  options: ResolvedOptions,
): WrittenDirectives {
  const known = new Set(scannedKeys);
  return {
    async isWritten(directive, importer) {
      if (known.has(directive.generationKey)) return true;
      if (!importer || !path.isAbsolute(importer) || importer.includes(DEPENDENCY)) return false;
      const code = await readFile(importer, "utf8").catch(() => undefined);
      if (code === undefined) return false;
      for (const found of findDirectives(code, languageOf(importer) ?? "auto")) {
        try {
          const key = parseDirective(found.raw, options).generationKey;
          known.add(key);
        } catch {
          // A bad directive in the file is reported by the plan and by its own load, not here.
        }
      }
      return known.has(directive.generationKey);
    },
  };
}
