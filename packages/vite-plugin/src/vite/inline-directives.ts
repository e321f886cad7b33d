import path from "node:path";
import { applySplices, type Splice } from "../shared/splices.js";
import { type ImportBinding, type LeadingImport, leadingImports } from "./leading-imports.js";
import type { ModuleParts } from "./module-code.js";

/*
 * In a build, a `grok:` import of a cached directive is written straight into the module that names it: its
 * image files are imported there and its exports become constants, so the bundle has no module per directive
 * between a page and its images. A site with thousands of images otherwise pays for thousands of extra modules
 * (every plugin's hooks, resolution, linking), which local images never cost.
 *
 * What is inlined is written from the very parts the directive's own module is written from (`ModuleParts` of
 * module-code.ts), so the two can never disagree; anything this does not recognise keeps its import and loads
 * through the plugin as before. Only the imports a module starts with are rewritten (leading-imports.ts: a constant
 * must exist before any statement of the module runs), with default, `images` and `alt` bindings; line numbers
 * are kept.
 */

/** Where inlined names start; a module that already uses it keeps its imports. */
const PREFIX = "__grok_inline_";
const EXPORTS = new Set(["default", "images", "alt"]);

/** A module rewritten with its directives inlined. */
export interface InlinedModule {
  readonly code: string;
  /** What was replaced, in order: `applySplices(original, splices)` gives `code` again. */
  readonly splices: readonly Splice[];
  /** The specifier of every directive the module's leading imports name, as written. */
  readonly specifiers: readonly string[];
}

/**
 * The module with its leading `grok:` imports inlined, or undefined when none could be. `moduleOf` gives the
 * parts of a directive's module (as written, `grok:...`), or undefined to keep its import; it may reject, which
 * rejects this.
 */
export async function inlineDirectives(
  code: string,
  moduleOf: (specifier: string) => Promise<ModuleParts | undefined>,
  importer?: string,
): Promise<InlinedModule | undefined> {
  if (code.includes(PREFIX)) return undefined;
  const candidates: { node: LeadingImport; bindings: ImportBinding[]; source: string }[] = [];
  for (const node of leadingImports(code)) {
    const { source, bindings } = node;
    if (!source?.startsWith("grok:") || !bindings?.length) continue;
    if (bindings.every(({ imported }) => EXPORTS.has(imported))) candidates.push({ node, bindings, source });
  }
  // Every directive of the module at once: a miss starts its generation now, alongside the others.
  const modules = await Promise.all(candidates.map(({ source }) => moduleOf(source)));
  const splices: Splice[] = [];
  const specifierFor = relativeTo(importer);
  // Written once, with the first statements that call it (a function declaration holds for the whole module).
  const preludes = new Set<string>();
  for (const [i, { node, bindings }] of candidates.entries()) {
    const module = modules[i];
    let text = module && inlined(module, bindings, `${PREFIX}${splices.length}`, specifierFor);
    if (!text) continue;
    // As many lines as the statement it replaces (padded), so everything after it keeps its line.
    const lines = lineBreaks(code.slice(node.start, node.end)) - lineBreaks(text);
    if (lines < 0) continue;
    const prelude = module?.prelude;
    if (prelude && !preludes.has(prelude)) {
      preludes.add(prelude);
      text = `${prelude} ${text}`;
    }
    splices.push([node.start, node.end, text + "\n".repeat(lines)]);
  }
  if (splices.length === 0) return undefined;
  return {
    code: applySplices(code, splices) as string,
    splices,
    specifiers: candidates.map(({ source }) => source),
  };
}

/**
 * The statements that stand for a module of these parts imported with `bindings`, on one line; undefined for a
 * module that imports something for its side effects (the dev client's), which keeps its import.
 */
function inlined(
  parts: ModuleParts,
  bindings: readonly ImportBinding[],
  name: string,
  specifierFor: (specifier: string) => string,
): string | undefined {
  if (parts.clientImport) return undefined;
  const names = parts.specifiers.map((_, i) => `${name}_${i}`);
  const imports = parts.specifiers.map(
    (specifier, i) => `import ${names[i]} from ${JSON.stringify(specifierFor(specifier))};`,
  );
  const entries = parts.entries(names);
  const statements = [...imports];
  if (entries.length === 1 && bindings.every(({ imported }) => imported !== "images")) {
    // One image (a directive without `n=`) and no `images` binding, as nearly every import is: the binding is the
    // image itself, with no array for the bundler to carry. A second default binding is the same object.
    let image: string | undefined;
    for (const { imported, local } of bindings) {
      statements.push(`const ${local} = ${imported === "alt" ? parts.alt : (image ?? entries[0])};`);
      if (imported === "default") image ??= local;
    }
    return statements.join(" ");
  }
  const list = `${name}_images`;
  const values: Record<string, string> = {
    images: list,
    alt: parts.alt,
    default: parts.pick === undefined ? "undefined" : `${list}[${parts.pick}]`,
  };
  statements.push(`const ${list} = [${entries.join(", ")}];`);
  for (const { imported, local } of bindings) statements.push(`const ${local} = ${values[imported]};`);
  return statements.join(" ");
}

/**
 * Absolute file specifiers as paths relative to the importing file, the way a local image is imported: the bundler
 * resolves them at once, with no plugin asked. Anything else is kept.
 */
function relativeTo(importer: string | undefined): (specifier: string) => string {
  if (!importer || !path.isAbsolute(importer)) return (specifier) => specifier;
  // Every image of a page sits in the one variants folder: its path relative to the page is worked out once.
  let lastFolder: string | undefined;
  let lastRelative = "";
  return (specifier) => {
    const query = specifier.indexOf("?");
    const file = query < 0 ? specifier : specifier.slice(0, query);
    // Specifiers are written with `/` (module-code.ts): the folder and name split there without path's checks.
    const slash = file.lastIndexOf("/");
    if (slash < 0 || !path.isAbsolute(file)) return specifier;
    const folder = file.slice(0, slash);
    if (folder !== lastFolder) {
      const relative = path.relative(path.dirname(importer), folder).split(path.sep).join("/");
      // `.grok-images/...` would read as a package name: only `..` may start a relative path bare.
      lastRelative =
        relative === "" ? "." : relative === ".." || relative.startsWith("../") ? relative : `./${relative}`;
      lastFolder = folder;
    }
    return `${lastRelative}${specifier.slice(slash)}`;
  };
}

function lineBreaks(text: string): number {
  let count = 0;
  for (let at = text.indexOf("\n"); at >= 0; at = text.indexOf("\n", at + 1)) count++;
  return count;
}
