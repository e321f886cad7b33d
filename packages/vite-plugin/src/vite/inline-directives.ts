/*
 * In a build, a `grok:` import of a cached directive is written straight into the module that names it: its
 * image files are imported there and its exports become constants, so the bundle has no module per directive
 * between a page and its images. A site with thousands of images otherwise pays for thousands of extra modules
 * (every plugin's hooks, resolution, linking), which local images never cost.
 *
 * What is inlined is exactly the code the directive's own module would have (`moduleCode()`, read back with the
 * bundler's parser), so the two can never disagree; anything this does not recognise keeps its import and loads
 * through the plugin as before. Only leading static imports are rewritten (a constant must exist before any
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
): Promise<string | undefined> {
  if (code.includes(PREFIX)) return undefined;
  const candidates: { node: EsNode; bindings: Binding[]; source: string }[] = [];
  for (const node of parse(code).body) {
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
    const text = module && inlined(module, bindings, `${PREFIX}${replacements.length}`, parse);
    if (!text) continue;
    // As many lines as the statement it replaces (padded), so everything after it keeps its line.
    const lines = lineBreaks(code.slice(node.start, node.end)) - lineBreaks(text);
    if (lines < 0) continue;
    replacements.push({ start: node.start, end: node.end, text: text + "\n".repeat(lines) });
  }
  if (replacements.length === 0) return undefined;
  let out = code;
  for (const { start, end, text } of replacements.reverse())
    out = out.slice(0, start) + text + out.slice(end);
  return out;
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

/**
 * The statements that stand for `module` imported with `bindings`, on one line; undefined unless the module has
 * exactly the shape `moduleCode()` gives a plain image import: default imports of files, then `images`, `alt` and
 * the default export.
 */
function inlined(
  module: string,
  bindings: readonly Binding[],
  name: string,
  parse: ParseModule,
): string | undefined {
  const locals = new Map<string, string>();
  const imports: string[] = [];
  const exported = new Map<string, EsNode>();
  for (const node of parse(module).body) {
    if (node.type === "ImportDeclaration") {
      const [spec, ...more] = node.specifiers as EsNode[];
      if (!spec || more.length > 0 || spec.type !== "ImportDefaultSpecifier") return undefined;
      const local = `${name}_${locals.size}`;
      locals.set((spec.local as { name: string }).name, local);
      imports.push(
        `import ${local} from ${module.slice((node.source as EsNode).start, (node.source as EsNode).end)};`,
      );
    } else if (node.type === "ExportNamedDeclaration") {
      const declaration = node.declaration as EsNode | null;
      const [declarator, ...more] = (declaration?.declarations as EsNode[] | undefined) ?? [];
      const id = (declarator?.id as { name?: unknown } | undefined)?.name;
      if (!declarator?.init || more.length > 0 || typeof id !== "string") return undefined;
      exported.set(id, declarator.init as EsNode);
    } else if (node.type === "ExportDefaultDeclaration") {
      exported.set("default", node.declaration as EsNode);
    } else return undefined;
  }
  const images = exported.get("images");
  const alt = exported.get("alt");
  const first = exported.get("default");
  if (!images || !alt || !first || exported.size !== 3) return undefined;
  const text = (node: EsNode, names: ReadonlyMap<string, string>) => renamed(module, node, names);
  const list = `${name}_images`;
  const values: Record<string, string> = {
    images: list,
    alt: text(alt, new Map()),
    default: text(first, new Map([["images", list]])),
  };
  const statements = [...imports, `const ${list} = ${text(images, locals)};`];
  for (const { imported, local } of bindings) statements.push(`const ${local} = ${values[imported]};`);
  return statements.join(" ");
}

function lineBreaks(text: string): number {
  return text.split("\n").length - 1;
}

/**
 * The source of `node` on one line (line breaks outside template strings become spaces), with the identifiers
 * in `names` renamed (object keys and member names left alone).
 */
function renamed(source: string, node: EsNode, names: ReadonlyMap<string, string>): string {
  const edits: { start: number; end: number; text: string }[] = [];
  const templates: EsNode[] = [];
  const visit = (value: unknown, parent?: EsNode, key?: string): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item, parent, key);
      return;
    }
    if (typeof value !== "object" || value === null) return;
    const current = value as EsNode;
    if (current.type === "TemplateElement") templates.push(current);
    if (current.type === "Identifier") {
      const renamedTo = names.get(current.name as string);
      const isKey = parent?.type === "Property" && key === "key" && !parent.computed;
      const isMember = parent?.type === "MemberExpression" && key === "property" && !parent.computed;
      if (renamedTo && !isKey && !isMember)
        edits.push({ start: current.start, end: current.end, text: renamedTo });
      return;
    }
    for (const [childKey, child] of Object.entries(current)) {
      if (childKey !== "type" && childKey !== "start" && childKey !== "end") visit(child, current, childKey);
    }
  };
  if (names.size > 0 || source.slice(node.start, node.end).includes("\n")) visit(node);
  const inTemplate = (at: number) => templates.some((t) => at >= t.start && at < t.end);
  let out = source
    .slice(node.start, node.end)
    .replace(/\n/g, (lf, offset: number) => (inTemplate(node.start + offset) ? lf : " "));
  for (const edit of edits.sort((a, b) => b.start - a.start)) {
    out = out.slice(0, edit.start - node.start) + edit.text + out.slice(edit.end - node.start);
  }
  return out;
}
