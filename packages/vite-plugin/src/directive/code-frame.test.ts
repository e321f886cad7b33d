import { describe, expect, it } from "vitest";
import { codeFrame, locationOf, locator } from "./code-frame.js";

const SOURCE = [
  "---",
  'import Layout from "../layouts/Layout.astro";',
  'import hero from "grok:a misty forest?with=960";',
  "---",
  "<Layout />",
  "",
].join("\n");

describe("locationOf", () => {
  it("gives 1-based lines and columns", () => {
    expect(locationOf(SOURCE, 0)).toEqual({ line: 1, column: 1 });
    expect(locationOf(SOURCE, SOURCE.indexOf("grok:"))).toEqual({ line: 3, column: 19 });
    expect(locationOf(SOURCE, SOURCE.indexOf("<Layout"))).toEqual({ line: 5, column: 1 });
  });

  it("counts \\r\\n as one line break, and a lone \\r as one", () => {
    const crlf = SOURCE.replaceAll("\n", "\r\n");
    expect(locationOf(crlf, crlf.indexOf("grok:"))).toEqual({ line: 3, column: 19 });
    const cr = SOURCE.replaceAll("\n", "\r");
    expect(locationOf(cr, cr.indexOf("grok:"))).toEqual({ line: 3, column: 19 });
  });

  it("clamps offsets outside the text", () => {
    expect(locationOf("ab\ncd", -5)).toEqual({ line: 1, column: 1 });
    expect(locationOf("ab\ncd", 99)).toEqual({ line: 2, column: 3 });
  });
});

describe("codeFrame", () => {
  it("prints two lines each side, marks the line and puts a caret under the column", () => {
    expect(codeFrame(SOURCE, 3, 19)).toBe(
      [
        "  1 | ---",
        '  2 | import Layout from "../layouts/Layout.astro";',
        '> 3 | import hero from "grok:a misty forest?with=960";',
        "    |                   ^",
        "  4 | ---",
        "  5 | <Layout />",
      ].join("\n"),
    );
  });

  it("is the same for \\r\\n sources", () => {
    expect(codeFrame(SOURCE.replaceAll("\n", "\r\n"), 3, 19)).toBe(codeFrame(SOURCE, 3, 19));
  });

  it("pads line numbers to the widest shown, and leaves empty lines bare", () => {
    const source = Array.from({ length: 12 }, (_, i) => (i === 8 ? "" : `line ${i + 1}`)).join("\n");
    expect(codeFrame(source, 10, 3)).toBe(
      ["   8 | line 8", "   9 |", "> 10 | line 10", "     |   ^", "  11 | line 11", "  12 | line 12"].join(
        "\n",
      ),
    );
  });

  it("keeps tabs in the caret line so it lines up", () => {
    expect(codeFrame("\tx = 'grok:a'", 1, 7).split("\n")[1]).toBe("    | \t     ^");
  });

  it("clamps a line or column past the end", () => {
    expect(codeFrame("a\nb", 9, 9)).toBe(["  1 | a", "> 2 | b", "    |  ^"].join("\n"));
  });

  it("shows a window of a long line around the column", () => {
    const long = `${"x".repeat(200)}grok:a forest${"y".repeat(200)}`;
    const [line, caret] = codeFrame(long, 1, 201).split("\n") as [string, string];
    expect(line.startsWith("> 1 | …")).toBe(true);
    expect(line.endsWith("…")).toBe(true);
    expect(line.length).toBeLessThanOrEqual(6 + 120);
    expect(line.indexOf("grok:")).toBe(caret.indexOf("^"));
  });
});

describe("locator", () => {
  it.each([
    ["every kind of line break", "a\r\nbc\rd\n\n  grok:x\r\n\re"],
    ["\\n alone", "a\nbc\n\n  grok:x\nd\n"],
  ])("finds what locationOf finds at every index, across %s", (_, text) => {
    const locate = locator(text);
    for (let i = -1; i <= text.length + 1; i++) {
      let line = 1;
      let lineStart = 0;
      const end = Math.max(0, Math.min(i, text.length));
      for (let j = 0; j < end; j++) {
        if (text[j] === "\n" || (text[j] === "\r" && text[j + 1] !== "\n")) {
          line++;
          lineStart = j + 1;
        }
      }
      expect(locate(i)).toEqual({ line, column: end - lineStart + 1 });
    }
  });
});
