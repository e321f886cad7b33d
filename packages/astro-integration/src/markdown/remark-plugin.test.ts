import { describe, expect, test } from "vitest";
import { fromMarkdownSpecifier } from "./markdown-specifier.js";
import { remarkGrokImages } from "./remark-plugin.js";

interface Node {
  type: string;
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
});
