import { describe, expect, it } from "vitest";
import { wrapWords } from "./wrap-words.js";

describe("wrapWords", () => {
  it("fills each line up to the width, at word boundaries", () => {
    expect(wrapWords("a misty  forest\tat dawn", 10, 5)).toEqual(["a misty", "forest at", "dawn"]);
  });

  it("cuts a word longer than a line, and ellipsizes the last line kept", () => {
    expect(wrapWords("supercalifragilistic", 8, 3)).toEqual(["superca…"]);
    expect(wrapWords("one two three four five six", 9, 2)).toEqual(["one two", "three…"]);
  });

  it("gives no line for blank text", () => {
    expect(wrapWords("  \n ", 10, 3)).toEqual([]);
  });
});
