import { describe, expect, test } from "vitest";
import { findDirectiveFields } from "./find-directive-fields.js";

/**
 * A content data store as `astro sync` writes it (devalue's flat form), cut down from the astro-content fixture's:
 * one entry whose `cover` is an `image()` field, and a Markdown body with a directive in its angle-bracket form.
 */
function dataStore(cover: string, title = "The harbour"): string {
  return JSON.stringify([
    ["Map", 1, 2],
    "notes",
    ["Map", 3, 4],
    "harbour",
    { id: 3, data: 5, body: 8, filePath: 9, imageImports: 10, digest: 13 },
    { title: 6, cover: 7 },
    title,
    cover,
    "# The harbour\n\n![](<grok:a fishing boat & its nets?w=200>)",
    "src/content/notes/harbour.md",
    [11],
    [12],
    "cover",
    "91b6445eb16a1595",
  ]).replaceAll("<", "\\u003C");
}

describe("findDirectiveFields", () => {
  test("finds an image() field that holds a directive, naming the entry and the field", () => {
    expect(findDirectiveFields(dataStore("grok:a lighthouse on a cliff?w=400"))).toEqual([
      {
        entry: "src/content/notes/harbour.md",
        field: "cover",
        directive: "grok:a lighthouse on a cliff?w=400",
      },
    ]);
  });

  test("a directive in the body, or a field that is not an image, is not one", () => {
    expect(findDirectiveFields(dataStore("./cover.jpg"))).toEqual([]);
    expect(findDirectiveFields(dataStore("./cover.jpg", "grok: the word"))).toEqual([]);
  });

  test("a store it does not recognise yields nothing rather than a failure", () => {
    expect(findDirectiveFields('{"grok:": 1}')).toEqual([]);
    expect(findDirectiveFields('["grok:a lighthouse"')).toEqual([]);
  });
});
