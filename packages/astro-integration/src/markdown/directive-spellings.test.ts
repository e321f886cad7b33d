import { markdownToHtml, markdownToMdast, mdxToJs } from "satteri";
import { describe, expect, test } from "vitest";
// The Vite plugin's parser and the CLI's scanner are internal to it, so they are read from its source.
import { parseDirective } from "../../../vite-plugin/src/directive/parse-directive.js";
import { findDirectives } from "../../../vite-plugin/src/directive/scan-source.js";
import { fromMarkdownSpecifier } from "./markdown-specifier.js";
import { remarkGrokImages } from "./remark-plugin.js";
import { satteriGrokImages } from "./satteri-plugin.js";

/*
 * Every spelling of one Markdown directive must be one generation, and the prompt sent the one written, whatever
 * Astro's default smartypants does to the text: curled quotes, dashes from `--` and `---`, an ellipsis from `...`.
 * The build (these plugins), the dev server (the same plugins) and the CLI (`findDirectives`) must also give the
 * same raw directive for each spelling, so that `parseDirective(raw).generationKey` agrees between them.
 */

const PROMPTS = [
  "a sailor's lantern",
  'a "quiet" harbour at night',
  "a storm -- then calm --- at dawn",
  "the road goes on...",
];

const DEFAULTS = { tier: "lite", format: "webp", quality: 80 } as const;

interface Spelling {
  readonly markdown: string;
  /** The directive the bundler must receive for it. */
  readonly raw: string;
}

/** `prompt` in every spelling: literal spaces, `<…>`, `%20`; without a title and with each kind of title. */
function spellingsOf(prompt: string): Spelling[] {
  const encoded = `grok:${prompt.replaceAll(" ", "%20")}`;
  const spaced = `grok:${prompt}`;
  const titles = [` "A title"`, ` 'A title'`, ` (A title)`];
  return [
    { markdown: `![alt](${spaced})`, raw: encoded },
    { markdown: `![](${spaced})`, raw: encoded },
    // A parenthesised title after a literal-space prompt reads as part of the prompt (`a cat (watercolor)`).
    ...titles
      .slice(0, 2)
      .map((title) => ({ markdown: `![alt](${spaced}?w=64${title})`, raw: `${encoded}?w=64` })),
    { markdown: `![alt](<${spaced}>)`, raw: spaced },
    ...titles.map((title) => ({ markdown: `![alt](<${spaced}?w=64>${title})`, raw: `${spaced}?w=64` })),
    { markdown: `![alt](${encoded})`, raw: encoded },
    ...titles.map((title) => ({ markdown: `![alt](${encoded}?w=64${title})`, raw: `${encoded}?w=64` })),
  ];
}

const SPELLINGS = PROMPTS.flatMap(spellingsOf);
const EXPECTED = SPELLINGS.map((s) => s.raw);
/** One paragraph per spelling, each with prose around the image for smartypants to work on. */
const DOCUMENT = SPELLINGS.map((s) => `It's "here" -- ${s.markdown} -- and... that's it.`).join("\n\n");
const SMART = { features: { smartPunctuation: true } } as const;

const SPECIFIER = /@grok-image\/markdown\/[\w-]+\.webp/g;
const directivesIn = (code: string) =>
  [...code.matchAll(SPECIFIER)].map(([specifier]) => fromMarkdownSpecifier(specifier));

interface Node {
  type: string;
  url?: string;
  value?: string;
  children?: Node[];
}
const flatten = (node: Node): Node[] => [node, ...(node.children ?? []).flatMap(flatten)];

describe("every spelling of a Markdown directive, with smartypants on", () => {
  test("smartypants does rewrite the text around the images (the premise of the tests below)", async () => {
    const { html } = await markdownToHtml('It\'s "here" -- and... ![a](grok:x y)', SMART);
    expect(html).toContain("It’s “here” – and…");
  });

  test("Sätteri (.md): each spelling gives the directive as written", async () => {
    const { html } = await markdownToHtml(DOCUMENT, { ...SMART, mdastPlugins: [satteriGrokImages] });
    expect(directivesIn(html)).toEqual(EXPECTED);
    expect(html).not.toContain("](grok:");
    // The prose around an image made from text keeps its typography.
    expect(html).toContain("It’s “here” – <img");
    expect(html).toMatch(/> – and… that’s it\.<\/p>/);
  });

  test("Sätteri (.mdx): each spelling gives the directive as written", async () => {
    const { code } = await mdxToJs(`---\ntitle: "It's"\n---\n\n${DOCUMENT}\n`, {
      ...SMART,
      mdastPlugins: [satteriGrokImages],
    });
    expect(directivesIn(code)).toEqual(EXPECTED);
  });

  test("remark (the unified processor): each spelling gives the directive as written", () => {
    const tree = markdownToMdast(DOCUMENT, SMART) as Node;
    // The tree as remark hands it to user plugins, after remark-smartypants: curled text, positions intact.
    expect(flatten(tree).some((n) => n.type === "text" && n.value?.includes("sailor’s"))).toBe(true);
    remarkGrokImages()(tree, { value: DOCUMENT });
    const images = flatten(tree).filter((n) => n.type === "image");
    expect(images.map((n) => fromMarkdownSpecifier(n.url ?? ""))).toEqual(EXPECTED);
  });

  test("findDirectives (the CLI's scan and prune) gives the same raw directives", () => {
    expect(findDirectives(DOCUMENT, "markdown").map((d) => d.raw)).toEqual(EXPECTED);
  });

  test("all spellings and an import of the prompt share one generation key, and send the prompt as written", () => {
    for (const prompt of PROMPTS) {
      const quote = prompt.includes('"') ? "'" : '"';
      const script = `import image from ${quote}grok:${prompt}${quote};`;
      const [imported] = findDirectives(script, "script").map((d) => parseDirective(d.raw, DEFAULTS));
      const spelled = spellingsOf(prompt).map((s) => parseDirective(s.raw, DEFAULTS));
      expect(imported?.generation.prompt).toBe(prompt);
      for (const directive of spelled) {
        expect(directive.generation.prompt).toBe(prompt);
        expect(directive.generationKey).toBe(imported?.generationKey);
      }
    }
  });
});
