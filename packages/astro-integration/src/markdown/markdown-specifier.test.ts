import { describe, expect, test } from "vitest";
import { defaultAltOf, fromMarkdownSpecifier, promptOf, toMarkdownSpecifier } from "./markdown-specifier.js";

describe("Markdown specifiers", () => {
  test("round-trip any directive, and carry no character Astro's HTML matching would escape or decode", () => {
    for (const directive of [
      "grok:a misty forest?tier=pro&w=640",
      "grok:a%20misty%20forest",
      'grok:a "quoted" <prompt> & more?v=2',
      "grok:un café à l'aube",
    ]) {
      const specifier = toMarkdownSpecifier(directive);
      expect(specifier).toMatch(/^@grok-image\/markdown\/[\w-]+\.webp$/);
      expect(URL.canParse(specifier)).toBe(false);
      expect(decodeURI(specifier)).toBe(specifier);
      expect(fromMarkdownSpecifier(specifier)).toBe(directive);
      // As the content layer imports a collection entry's image, and as an older cached entry wrote it.
      expect(fromMarkdownSpecifier(`${specifier}?astroContentImageFlag=&importer=src%2Fcontent%2Fa.md`)).toBe(
        directive,
      );
      expect(fromMarkdownSpecifier(specifier.slice(0, -".webp".length))).toBe(directive);
    }
  });

  test("ignore ids that are not theirs", () => {
    expect(fromMarkdownSpecifier("./local.png")).toBeUndefined();
    expect(fromMarkdownSpecifier("@grok-image/markdown/not base64!")).toBeUndefined();
    expect(
      fromMarkdownSpecifier(`@grok-image/markdown/${Buffer.from("./x.png").toString("base64url")}`),
    ).toBeUndefined();
  });

  test("derive the default alt from the prompt as the module's `alt` export does", () => {
    expect(promptOf("grok:a%20misty%20%20forest ?tier=pro")).toBe("a misty forest");
    expect(promptOf("grok:  a desert road  ")).toBe("a desert road");
    expect(promptOf("grok:100% cotton")).toBe("100% cotton");
  });
});

describe("defaultAltOf", () => {
  test("is the directive's alt= when it has one, else its prompt", () => {
    expect(defaultAltOf("grok:a fox, soft light?w=300&alt=A%20red%20fox")).toBe("A red fox");
    expect(defaultAltOf("grok:a  fox?w=300")).toBe("a fox");
  });
});
