import { describe, expect, test } from "vitest";
import { toMarkdownSpecifier } from "./markdown-specifier.js";
import {
  encodeSpacedDirective,
  type MdastLike,
  spacedImageReplacements,
} from "./spaced-image-replacements.js";

const text = (value: string) => ({ type: "text", value });
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
});
