import { markdownToHtml, mdxToJs } from "satteri";
import { describe, expect, test } from "vitest";
import { fromMarkdownSpecifier } from "./markdown-specifier.js";
import { satteriGrokImages } from "./satteri-plugin.js";

/** Rendered HTML with each specifier shown as the directive it stands for, so expectations read as written. */
async function render(markdown: string, smartPunctuation = false): Promise<string> {
  const { html } = await markdownToHtml(markdown, {
    mdastPlugins: [satteriGrokImages],
    features: { smartPunctuation },
  });
  return html
    .trim()
    .replace(/@grok-image\/markdown\/[\w-]+\.webp/g, (specifier) => `{${fromMarkdownSpecifier(specifier)}}`);
}

describe("satteriGrokImages, with Sätteri itself", () => {
  test("turns the literal-space form into an image, keeping the text around it", async () => {
    expect(await render("Before ![a spaced alt](grok:a misty forest at dawn?w=120) after.")).toBe(
      '<p>Before <img src="{grok:a%20misty%20forest%20at%20dawn?w=120}" alt="a spaced alt"> after.</p>',
    );
  });

  test("keeps a quoted title, and gives an empty alt the prompt", async () => {
    expect(await render(`![](grok:a red kite "Over the hills")`)).toBe(
      '<p><img src="{grok:a%20red%20kite}" alt="a red kite" title="Over the hills"></p>',
    );
  });

  test("rewrites several per paragraph, across lines, beside the forms the parser already reads", async () => {
    const html = await render(
      [
        "One ![first](grok:a first image) two ![second](grok:a second (balanced) one?n=2) three",
        "![encoded](grok:an%20encoded%20one) ![angle](<grok:an angle one>) ![](grok:a last one 'T')",
      ].join("\n"),
    );
    expect(html).toBe(
      [
        '<p>One <img src="{grok:a%20first%20image}" alt="first"> two <img src="{grok:a%20second%20(balanced)%20one?n=2}" alt="second"> three',
        '<img src="{grok:an%20encoded%20one}" alt="encoded"> <img src="{grok:an angle one}" alt="angle"> <img src="{grok:a%20last%20one}" alt="a last one" title="T"></p>',
      ].join("\n"),
    );
  });

  test("reads an alt split by formatting, escapes and entities into one plain-text alt", async () => {
    expect(await render("A ![a *big* \\* fox &amp; `kit`](grok:a big fox) b")).toBe(
      '<p>A <img src="{grok:a%20big%20fox}" alt="a big * fox &amp; kit"> b</p>',
    );
  });

  test("works in headings, emphasis, list items and table cells", async () => {
    const html = await render(
      [
        "# ![h](grok:a heading image)",
        "",
        "*![e](grok:in emphasis)*",
        "",
        "- ![l](grok:in a list)",
        "",
        "| cell |",
        "| ---- |",
        "| ![c](grok:in a cell) |",
      ].join("\n"),
    );
    expect(html).toContain('<h1><img src="{grok:a%20heading%20image}" alt="h"></h1>');
    expect(html).toContain('<em><img src="{grok:in%20emphasis}" alt="e"></em>');
    expect(html).toContain('<li><img src="{grok:in%20a%20list}" alt="l"></li>');
    expect(html).toContain('<td><img src="{grok:in%20a%20cell}" alt="c"></td>');
  });

  test("leaves code, unclosed syntax, links and text without a directive alone", async () => {
    const markdown = [
      "`![code](grok:inline code span)`",
      "",
      "```md",
      "![fenced](grok:fenced code)",
      "```",
      "",
      "![unclosed](grok:no closing paren",
      "",
      "![split](grok:a destination",
      "on two lines)",
      "",
      "[a link](grok:not an image) and ![plain](a plain path)",
    ].join("\n");
    const html = await render(markdown);
    expect(html).not.toContain("<img");
    expect(html).toContain("<code>![code](grok:inline code span)</code>");
    expect(html).toContain("![fenced](grok:fenced code)\n</code></pre>");
    expect(html).toContain("![unclosed](grok:no closing paren");
  });

  test("with smart punctuation (Astro's default), reads the prompt and title as written", async () => {
    const html = await render(
      `It's ![w](grok:a sailor's lantern -- lit...?w=600 "A title") -- and ![](<grok:a "quiet" harbour>) too.`,
      true,
    );
    expect(html).toBe(
      "<p>It’s " +
        `<img src="{grok:a%20sailor's%20lantern%20--%20lit...?w=600}" alt="w" title="A title">` +
        ` – and <img src="{grok:a "quiet" harbour}" alt="a &quot;quiet&quot; harbour"> too.</p>`,
    );
  });

  test("leaves a document without a directive to Sätteri alone", () => {
    expect(satteriGrokImages({ source: "# No images here" })).toBeNull();
    expect(satteriGrokImages({ source: "![x](grok:y)" })?.options.position).toBe(true);
  });

  test("rewrites MDX text, including inside a JSX element", async () => {
    const { code } = await mdxToJs(
      "<div>![in jsx](grok:inside a div)</div>\n\nText ![t](grok:mdx text) {1 + 1}\n",
      {
        mdastPlugins: [satteriGrokImages],
      },
    );
    const sources = [...code.matchAll(/src: "([^"]+)"/g)].map(([, src]) => fromMarkdownSpecifier(src ?? ""));
    expect(sources).toEqual(["grok:inside%20a%20div", "grok:mdx%20text"]);
    expect(code).not.toContain("](grok:");
  });
});
