import { describe, expect, test } from "vitest";
import { fromMarkdownSpecifier } from "./markdown-specifier.js";
import { remarkGrokImages } from "./remark-plugin.js";

interface Node {
  type: string;
  position?: { start: { offset: number }; end: { offset: number } };
  value?: string;
  url?: string;
  alt?: string | null;
  title?: string | null;
  children?: Node[];
}

/* Trees as remark-parse builds them: CommonMark leaves the literal-space form as paragraph text. */
describe("remarkGrokImages", () => {
  test("rewrites parsed `grok:` images and the literal-space form left as text, at any depth", () => {
    const tree: Node = {
      type: "root",
      children: [
        {
          type: "paragraph",
          children: [
            { type: "text", value: "Hi " },
            { type: "image", url: "grok:a%20lighthouse?w=400", alt: "" },
            { type: "text", value: " and ![a fox](grok:a red fox 'T') " },
            { type: "emphasis", children: [{ type: "text", value: "![](grok:in emphasis)" }] },
          ],
        },
        { type: "code", value: "![fenced](grok:fenced code)" },
        { type: "paragraph", children: [{ type: "inlineCode", value: "![c](grok:code span)" }] },
      ],
    };
    remarkGrokImages()(tree);
    const [paragraph, code, codeSpan] = tree.children ?? [];
    const shown = (node: Node): unknown =>
      node.type === "image"
        ? { image: fromMarkdownSpecifier(node.url ?? ""), alt: node.alt, title: node.title }
        : node.children
          ? { [node.type]: node.children.map(shown) }
          : node.value;
    expect(shown(paragraph as Node)).toEqual({
      paragraph: [
        "Hi ",
        { image: "grok:a%20lighthouse?w=400", alt: "a lighthouse", title: undefined },
        " and ",
        { image: "grok:a%20red%20fox", alt: "a fox", title: "T" },
        " ",
        { emphasis: [{ image: "grok:in%20emphasis", alt: "in emphasis", title: null }] },
      ],
    });
    expect(code).toEqual({ type: "code", value: "![fenced](grok:fenced code)" });
    expect(codeSpan?.children).toEqual([{ type: "inlineCode", value: "![c](grok:code span)" }]);
  });

  test("reads the literal-space form from the file, not from the text remark-smartypants rewrote", () => {
    const source = `---\ntitle: x\n---\n\nA ![w](grok:grey waves -- at dusk?w=600 "A title") and ![](grok:it's...)`;
    const start = source.indexOf("A ![");
    const paragraph = (): Node => ({
      type: "paragraph",
      children: [
        {
          type: "text",
          value: "A ![w](grok:grey waves – at dusk?w=600 “A title”) and ![](grok:it’s…)",
          position: { start: { offset: start }, end: { offset: source.length } },
        },
      ],
    });
    const images = (tree: Node) =>
      (tree.children?.[0]?.children ?? [])
        .filter((node) => node.type === "image")
        .map((node) => ({ image: fromMarkdownSpecifier(node.url ?? ""), alt: node.alt, title: node.title }));
    const expected = [
      { image: "grok:grey%20waves%20--%20at%20dusk?w=600", alt: "w", title: "A title" },
      { image: "grok:it's...", alt: "it's...", title: null },
    ];
    // A vfile's value is a string or, read from disk, bytes.
    for (const value of [source, new TextEncoder().encode(source)]) {
      const tree: Node = { type: "root", children: [paragraph()] };
      remarkGrokImages()(tree, { value });
      expect(images(tree)).toEqual(expected);
    }
  });
});
