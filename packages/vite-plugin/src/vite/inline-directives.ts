import path from "node:path";

/*
 * In a build, a `grok:` import of a cached directive is written straight into the module that names it: its
 * image files are imported there and its exports become constants, so the bundle has no module per directive
 * between a page and its images. A site with thousands of images otherwise pays for thousands of extra modules
 * (every plugin's hooks, resolution, linking), which local images never cost.
 *
 * What is inlined is exactly the code the directive's own module would have (`moduleCode()`, read back as text),
 * so the two can never disagree; anything this does not recognise keeps its import and loads through the plugin
 * as before. The importer is parsed with the bundler's parser. Only leading static imports are rewritten (a constant must exist before any
 * statement of the module runs), with default, `images` and `alt` bindings; line numbers are kept.
 */

/** The ESTree shapes read here (the bundler's `this.parse` gives ESTree with `start`/`end` offsets). */
export interface EsNode {
  type: string;
  start: number;
  end: number;
  [key: string]: unknown;
}
export type ParseModule = (code: string) => { body: EsNode[] };

interface Binding {
  imported: string;
  local: string;
}

/** Where inlined names start; a module that already uses it keeps its imports. */
const PREFIX = "__grok_inline_";
const EXPORTS = new Set(["default", "images", "alt"]);

/**
 * The module with its leading `grok:` imports inlined, or undefined when none could be. `moduleOf` gives the
 * code of a directive's module (as written, `grok:...`), or undefined to keep its import; it may reject, which
 * rejects this.
 */
export async function inlineDirectives(
  code: string,
  parse: ParseModule,
  moduleOf: (specifier: string) => Promise<string | undefined>,
  importer?: string,
): Promise<string | undefined> {
  if (code.includes(PREFIX)) return undefined;
  const candidates: { node: EsNode; bindings: Binding[]; source: string }[] = [];
  for (const node of leadingStatements(code, parse)) {
    if (node.type !== "ImportDeclaration") break;
    const source = (node.source as EsNode & { value?: unknown }).value;
    if (typeof source !== "string" || !source.startsWith("grok:")) continue;
    const bindings = importBindings(node);
    if (bindings) candidates.push({ node, bindings, source });
  }
  // Every directive of the module at once: a miss starts its generation now, alongside the others.
  const modules = await Promise.all(candidates.map(({ source }) => moduleOf(source)));
  const replacements: { start: number; end: number; text: string }[] = [];
  for (const [i, { node, bindings }] of candidates.entries()) {
    const module = modules[i];
    const text = module && inlined(module, bindings, `${PREFIX}${replacements.length}`, importer);
    if (!text) continue;
    // As many lines as the statement it replaces (padded), so everything after it keeps its line.
    const lines = lineBreaks(code.slice(node.start, node.end)) - lineBreaks(text);
    if (lines < 0) continue;
    replacements.push({ start: node.start, end: node.end, text: text + "\n".repeat(lines) });
  }
  if (replacements.length === 0) return undefined;
  // One pass over the module: a page of 20 images would otherwise be copied 20 times over.
  const parts: string[] = [];
  let from = 0;
  for (const { start, end, text } of replacements) {
    parts.push(code.slice(from, start), text);
    from = end;
  }
  parts.push(code.slice(from));
  return parts.join("");
}

/**
 * The statements of `code` up to the line of its last `grok:` (all a module's imports, in a module whose imports
 * come first), parsed alone when they parse alone: a compiled page is mostly markup code after them. The whole
 * module otherwise.
 */
function leadingStatements(code: string, parse: ParseModule): EsNode[] {
  const last = Math.max(code.lastIndexOf('"grok:'), code.lastIndexOf("'grok:"));
  const lineEnd = last < 0 ? -1 : code.indexOf("\n", last);
  if (lineEnd > 0 && lineEnd < code.length - 1) {
    try {
      return parse(code.slice(0, lineEnd + 1)).body;
    } catch {
      // The cut fell inside a statement: parse it all.
    }
  }
  return parse(code).body;
}

/** The default / `images` / `alt` bindings of an import, or undefined for any other form (namespace, attributes). */
function importBindings(node: EsNode): Binding[] | undefined {
  if ((node.attributes as unknown[] | undefined)?.length || node.importKind === "type" || node.phase)
    return undefined;
  const bindings: Binding[] = [];
  for (const spec of node.specifiers as EsNode[]) {
    const local = (spec.local as { name?: unknown } | undefined)?.name;
    if (typeof local !== "string") return undefined;
    if (spec.type === "ImportDefaultSpecifier") {
      bindings.push({ imported: "default", local });
      continue;
    }
    if (spec.type !== "ImportSpecifier") return undefined;
    const imported = spec.imported as { name?: unknown; value?: unknown };
    const name = imported.name ?? imported.value;
    if (typeof name !== "string" || !EXPORTS.has(name)) return undefined;
    bindings.push({ imported: name, local });
  }
  return bindings.length > 0 ? bindings : undefined;
}

/** `moduleCode()`'s plain shape: default imports of files, then `images`, `alt` and the default export. */
const MODULE_SHAPE =
  /^((?:import [A-Za-z_$][\w$]* from "(?:[^"\\\n]|\\.)*";\n)*)export const images = ([^\n]*(?:\n[^\n]*)*?);\nexport const alt = ("(?:[^"\\\n]|\\.)*");\nexport default (images\[\d+\]|undefined);\n$/;
const IMPORT_LINE = /^import ([A-Za-z_$][\w$]*) from ("(?:[^"\\\n]|\\.)*");$/;

/**
 * The statements that stand for `module` imported with `bindings`, on one line; undefined unless the module has
 * exactly the shape `moduleCode()` gives: default imports of files, then `images`, `alt` and the default export.
 * Read as text, not parsed: it is the plugin's own output, and a shape this does not match keeps its import.
 */
function inlined(
  module: string,
  bindings: readonly Binding[],
  name: string,
  importer: string | undefined,
): string | undefined {
  const shape = MODULE_SHAPE.exec(module);
  if (!shape) return undefined;
  const [, importLines = "", images = "", alt = "", first = ""] = shape;
  const locals = new Map<string, string>();
  const imports: string[] = [];
  for (const line of importLines.split("\n")) {
    if (line === "") continue;
    const [, local, spec] = IMPORT_LINE.exec(line) ?? [];
    if (!local || !spec) return undefined;
    const renamedTo = `${name}_${locals.size}`;
    locals.set(local, renamedTo);
    imports.push(`import ${renamedTo} from ${importer ? relativeSpecifier(spec, importer) : spec};`);
  }
  const list = `${name}_images`;
  const entries = renamed(images, locals);
  if (entries === undefined) return undefined;
  const values: Record<string, string> = {
    images: list,
    alt,
    default: first === "undefined" ? first : first.replace(/^images/, list),
  };
  const statements = [...imports, `const ${list} = ${entries};`];
  for (const { imported, local } of bindings) statements.push(`const ${local} = ${values[imported]};`);
  return statements.join(" ");
}

/**
 * An absolute file specifier (a JSON string) as a path relative to the importing file, the way a local image is
 * imported: the bundler resolves it at once, with no plugin asked. Anything else is kept.
 */
function relativeSpecifier(spec: string, importer: string): string {
  const value = JSON.parse(spec) as string;
  const query = value.indexOf("?");
  const file = query < 0 ? value : value.slice(0, query);
  if (!path.isAbsolute(file) || !path.isAbsolute(importer)) return spec;
  // Every image of a page sits in the one variants folder: the folder's relative path is worked out once.
  const from = path.dirname(importer);
  const to = path.dirname(file);
  const key = `${from}\0${to}`;
  let folder = relativeFolders.get(key);
  if (folder === undefined) {
    folder = path.relative(from, to).split(path.sep).join("/");
    // `.grok-images/...` would read as a package name: only `..` may start a relative path bare.
    folder = folder === "" ? "." : folder === ".." || folder.startsWith("../") ? folder : `./${folder}`;
    if (relativeFolders.size > 1000) relativeFolders.clear();
    relativeFolders.set(key, folder);
  }
  return JSON.stringify(`${folder}/${path.basename(file)}${query < 0 ? "" : value.slice(query)}`);
}

const relativeFolders = new Map<string, string>();

/**
 * `code` on one line, with the identifiers in `names` renamed wherever they stand for themselves: not inside a
 * string, not as an object key or after a dot. Line breaks between tokens become spaces; undefined for a line
 * break inside a template string (it would change the string) or an unterminated string.
 */
function renamed(code: string, names: ReadonlyMap<string, string>): string | undefined {
  let out = "";
  /** The last character outside whitespace before the current one (strings and words count as "a"). */
  let before = "";
  /** Open template literals, each with the depth of `{` inside its current `${ }`. */
  const templates: number[] = [];
  let i = 0;
  while (i < code.length) {
    const c = code[i] as string;
    const inTemplateText = templates.length > 0 && (templates.at(-1) as number) < 0;
    if (inTemplateText) {
      if (c === "\\") {
        out += code.slice(i, i + 2);
        i += 2;
      } else if (c === "`") {
        templates.pop();
        out += c;
        i++;
      } else if (c === "$" && code[i + 1] === "{") {
        templates[templates.length - 1] = 0;
        out += "${";
        i += 2;
      } else if (c === "\n") {
        return undefined;
      } else {
        out += c;
        i++;
      }
      continue;
    }
    if (c === '"' || c === "'") {
      const end = stringEnd(code, i);
      if (end < 0) return undefined;
      out += code.slice(i, end);
      i = end;
      before = "a";
      continue;
    } else if (c === "`") {
      templates.push(-1);
      out += c;
      i++;
    } else if (c === "{" || c === "}") {
      if (templates.length > 0) {
        const depth = templates.at(-1) as number;
        // The `}` that closes a `${`: back to the template's text.
        templates[templates.length - 1] = c === "{" ? depth + 1 : depth === 0 ? -1 : depth - 1;
      }
      out += c;
      i++;
    } else if (IDENTIFIER_START.test(c)) {
      IDENTIFIER.lastIndex = i;
      const [word] = IDENTIFIER.exec(code) as RegExpExecArray;
      COLON_AHEAD.lastIndex = i + word.length;
      const isKey = COLON_AHEAD.test(code) && (before === "{" || before === ",");
      out += before !== "." && !isKey ? (names.get(word) ?? word) : word;
      i += word.length;
      before = "a";
      continue;
    } else {
      out += c === "\n" ? " " : c;
      i++;
    }
    if (!/\s/.test(c)) before = code[i - 1] as string;
  }
  return templates.length === 0 ? out : undefined;
}

const IDENTIFIER_START = /[A-Za-z_$]/;
const IDENTIFIER = /[A-Za-z_$][\w$]*/y;
const COLON_AHEAD = /\s*:/y;

/** The index just past the string literal starting at `start`, or -1 when it does not end on its line. */
function stringEnd(code: string, start: number): number {
  const quote = code[start];
  for (let i = start + 1; i < code.length; i++) {
    const c = code[i];
    if (c === "\\") i++;
    else if (c === quote) return i + 1;
    else if (c === "\n") return -1;
  }
  return -1;
}

function lineBreaks(text: string): number {
  return text.split("\n").length - 1;
}
