import { describe, expect, test } from "vitest";
import { toMarkdownSpecifier } from "./markdown-specifier.js";
import {
  encodeSpacedDirective,
  type MdastLike,
  spacedImageReplacements,
} from "./spaced-image-replacements.js";

const text = (value: string) => ({ type: "text", value });
/** A text node as a parser builds it: `value` after smartypants, `position` into `source`. */
const parsed = (value: string, start: number, end: number) => ({
  type: "text",
  value,
  position: { start: { offset: start }, end: { offset: end } },
});
const image = (directive: string, alt: string, title: string | null = null) => ({
  type: "image",
  url: toMarkdownSpecifier(directive),
  alt,
  title,
});

describe("spacedImageReplacements", () => {
  test("splits one text node into the text before, the image and the text after", () => {
    const replacements = spacedImageReplacements([text("See ![a fox](grok:a red fox?w=120) here.")]);
    expect([...replacements]).toEqual([
      [0, [text("See "), image("grok:a%20red%20fox?w=120", "a fox"), text(" here.")]],
    ]);
  });

  test("finds several in a run of adjacent text nodes, one spanning two nodes", () => {
    const replacements = spacedImageReplacements([
      text("![one](grok:first one) and ![two](grok:sec"),
      text('ond one "Title") end'),
    ]);
    expect([...replacements]).toEqual([
      [0, [image("grok:first%20one", "one"), text(" and "), image("grok:second%20one", "two", "Title")]],
      [1, [text(" end")]],
    ]);
  });

  test("takes non-text children inside the alt as plain text, and drops them with the syntax", () => {
    const emphasis: MdastLike = { type: "emphasis", children: [text("big")] };
    const code: MdastLike = { type: "inlineCode", value: "ignored" };
    const replacements = spacedImageReplacements([
      text("A ![a "),
      emphasis,
      text(" fox](grok:a big fox) then "),
      code,
      text(" tail"),
    ]);
    expect([...replacements]).toEqual([
      [0, [text("A "), image("grok:a%20big%20fox", "a big fox")]],
      [1, []],
      [2, [text(" then ")]],
    ]);
  });

  test("never reads a directive out of a code span or across a non-text child in the destination", () => {
    expect(spacedImageReplacements([{ type: "inlineCode", value: "![a](grok:in code)" }]).size).toBe(0);
    expect(
      spacedImageReplacements([
        text("![a](grok:a "),
        { type: "emphasis", children: [text("b")] },
        text(" c)"),
      ]).size,
    ).toBe(0);
    expect(spacedImageReplacements([text("![a](grok:a\nb)")]).size).toBe(0);
    expect(spacedImageReplacements([text("[a link](grok:not an image)")]).size).toBe(0);
  });

  test("derives an empty alt from the prompt, and keeps the %20 form's meaning", () => {
    const [[, replacement] = []] = spacedImageReplacements([text("![ ](grok: a  quiet harbour ?tier=pro)")]);
    const [only] = replacement ?? [];
    expect(only).toEqual(image("grok:%20a%20%20quiet%20harbour%20?tier=pro", "a quiet harbour"));
    expect(encodeSpacedDirective(" grok:a\tb c ")).toBe("grok:a%09b%20c");
  });

  test("reads the directive and title from the source, not from the text smartypants rewrote", () => {
    const source = `It's ![a sailor's lantern](grok:a sailor's lantern -- lit... "A title") there's more`;
    const value = "It’s ![a sailor’s lantern](grok:a sailor’s lantern – lit… “A title”) there’s more";
    const replacements = spacedImageReplacements([parsed(value, 0, source.length)], source);
    expect([...replacements]).toEqual([
      [
        0,
        [
          // The directive and title are as written. The prose around the image and the alt keep their typography,
          // as they would around and in an image the parser read itself.
          text("It’s "),
          image("grok:a%20sailor's%20lantern%20--%20lit...", "a sailor’s lantern", "A title"),
          text(" there’s more"),
        ],
      ],
    ]);
  });

  test("reads a node at its offset in the document, decoding escapes and entities as findDirectives does", () => {
    const source = `# Title\n\nSay "\\!" ![e](grok:it\\'s a\\) &amp; b 'T') and ![f](grok:c d) -- end`;
    const start = source.indexOf("Say");
    const value = "Say “!” ![e](grok:it's a) & b ‘T’) and ![f](grok:c d) – end";
    const [[, replacement] = []] = spacedImageReplacements([parsed(value, start, source.length)], source);
    expect(replacement).toEqual([
      text("Say “!” "),
      image("grok:it's%20a)%20&%20b", "e", "T"),
      text(" and "),
      image("grok:c%20d", "f"),
      text(" – end"),
    ]);
  });

  test("keeps the decoded source around an image when the value cannot be matched to it", () => {
    // A value that lost the image's `!` (no parser does that): the cut is not guessed.
    const source = "It's ![x](grok:a b) c's";
    const value = "It’s [x](grok:a b) c’s";
    const [[, replacement] = []] = spacedImageReplacements([parsed(value, 0, source.length)], source);
    expect(replacement).toEqual([text("It's "), image("grok:a%20b", "x"), text(" c’s")]);
  });

  test("gives an empty alt the prompt as written, not as smartypants shows it", () => {
    const source = "![](grok:it's a b)";
    const [[, replacement] = []] = spacedImageReplacements([parsed("![](grok:it’s a b)", 0, 18)], source);
    expect(replacement).toEqual([image("grok:it's%20a%20b", "it's a b")]);
  });

  test("reads a node without a position (made by a plugin) from its value", () => {
    const [[, replacement] = []] = spacedImageReplacements([text("![x](grok:a b)")], "unrelated source");
    expect(replacement).toEqual([image("grok:a%20b", "x")]);
  });
});
