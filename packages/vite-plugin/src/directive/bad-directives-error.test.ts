import path from "node:path";
import { describe, expect, it } from "vitest";
import { formatError, GrokImageError } from "../errors.js";
import {
  badDirectivesError,
  codeFrame,
  type LocatedBadDirective,
  locationOf,
} from "./bad-directives-error.js";
import { parseDirective } from "./parse-directive.js";

const ROOT = path.resolve("/project");
const DEFAULTS = { tier: "lite", format: "webp", quality: 80 } as const;

function located(file: string, source: string, raw: string): LocatedBadDirective {
  let error: GrokImageError | undefined;
  try {
    parseDirective(raw, DEFAULTS);
  } catch (e) {
    error = e as GrokImageError;
  }
  if (!error) throw new Error(`${raw} parsed`);
  return { file: path.join(ROOT, file), raw, error, source, ...locationOf(source, source.indexOf(raw)) };
}

const LAZY = '// Only reached through a dynamic import.\nimport pines from "grok:pines in fog?with=960";\n';
const OTHER = 'import cat from "grok:a sleeping cat?tier=ultra";\n\nexport const other = cat.src;\n';
const MD = "# The harbour\n\n![pines](grok:pines?fit=round)\n";

describe("badDirectivesError", () => {
  it("lists every bad directive with file:line:col, what is wrong, the fix and a frame", () => {
    const error = badDirectivesError(
      [
        located("src/other.ts", OTHER, "grok:a sleeping cat?tier=ultra"),
        located("src/lazy.ts", LAZY, "grok:pines in fog?with=960"),
      ],
      ROOT,
    );
    expect(GrokImageError.isInstance(error)).toBe(true);
    expect(error.code).toBe("GROK_BAD_DIRECTIVE");
    expect(error.message).toBe(
      [
        "2 grok: directives are invalid:",
        "",
        "src/lazy.ts:2:20  grok:pines in fog?with=960",
        'unknown parameter "with"; did you mean "w"? Accepted parameters: tier, n, ratio, resolution, v, w, h, fit, format, quality, pick, alt, style, placeholder, position, as.',
        "fix: Write w=960 instead of with=960.",
        "  1 | // Only reached through a dynamic import.",
        '> 2 | import pines from "grok:pines in fog?with=960";',
        "    |                    ^",
        "  3 |",
        "",
        "src/other.ts:1:18  grok:a sleeping cat?tier=ultra",
        'tier="ultra" is not accepted. Accepted values: lite, standard, pro.',
        "fix: Use one of the accepted values, e.g. tier=lite.",
        '> 1 | import cat from "grok:a sleeping cat?tier=ultra";',
        "    |                  ^",
        "  2 |",
        "  3 | export const other = cat.src;",
      ].join("\n"),
    );
    expect(error.hint).toMatch(/^Fix each directive as shown above, then build again/);
  });

  it("takes importer, directive, loc and frame from the first entry in file order", () => {
    const error = badDirectivesError(
      [
        located("src/other.ts", OTHER, "grok:a sleeping cat?tier=ultra"),
        located("src/lazy.ts", LAZY, "grok:pines in fog?with=960"),
      ],
      ROOT,
    );
    expect(error.importer).toBe(path.join(ROOT, "src/lazy.ts"));
    expect(error.directive).toBe("grok:pines in fog?with=960");
    expect(error.loc).toEqual({ file: path.join(ROOT, "src/lazy.ts"), line: 2, column: 20 });
    expect(error.frame).toBe(codeFrame(LAZY, 2, 20));
  });

  it("says one directive in the singular and lists a repeated one once", () => {
    const entry = located("content/harbour.md", MD, "grok:pines?fit=round");
    const error = badDirectivesError([entry, { ...entry }], ROOT);
    expect(
      error.message.startsWith(
        "A grok: directive is invalid:\n\ncontent/harbour.md:3:10  grok:pines?fit=round\n",
      ),
    ).toBe(true);
    expect(error.message.split("grok:pines?fit=round")).toHaveLength(3); // the header and the frame
    expect(error.hint).toMatch(/^Fix the directive as shown above/);
  });

  it("orders by file, line and column", () => {
    const source = 'import a from "grok:a?w=0";\nimport b from "grok:b?h=0";\n';
    const error = badDirectivesError(
      [
        located("src/b.ts", source, "grok:b?h=0"),
        located("src/b.ts", source, "grok:a?w=0"),
        located("src/a.ts", source, "grok:b?h=0"),
      ],
      ROOT,
    );
    const order = ["src/a.ts:2:16", "src/b.ts:1:16", "src/b.ts:2:16"].map((at) => error.message.indexOf(at));
    expect(order.every((at) => at > 0)).toBe(true);
    expect([...order].sort((x, y) => x - y)).toEqual(order);
  });

  it("works without the source, and keeps paths outside the root as they are", () => {
    const outside = path.resolve("/elsewhere/page.ts");
    const { source: _, ...entry } = located("src/lazy.ts", LAZY, "grok:pines in fog?with=960");
    const error = badDirectivesError([{ ...entry, file: outside }], ROOT);
    expect(error.message).toContain(`${outside.replaceAll("\\", "/")}:2:20  grok:pines in fog?with=960`);
    expect(error.message).not.toContain(" | ");
    expect(error.frame).toBeUndefined();
  });

  it("states the generic directive shape once, in the hint, when an entry has no advice of its own", () => {
    const error = badDirectivesError(
      [located("src/a.ts", 'import "grok:x?size=huge&size=1";', "grok:x?size=huge&size=1")],
      ROOT,
    );
    expect(error.message).not.toContain("Directives look like");
    const plain = badDirectivesError([located("src/a.ts", 'import "grok:";', "grok:")], ROOT);
    expect(plain.message).toContain('fix: Write the prompt after "grok:"');
    const generic = badDirectivesError(
      [located("src/a.ts", 'import "grok:x?colour=red";', "grok:x?colour=red")],
      ROOT,
    );
    expect(generic.message).not.toContain("Directives look like");
    expect(generic.hint).toContain("Directives look like");
  });

  it("needs at least one directive", () => {
    expect(() => badDirectivesError([], ROOT)).toThrow(TypeError);
  });
});

describe("formatError with a location", () => {
  it("prints where and the frame for one located error, and not again for a report that frames each", () => {
    const error = new GrokImageError("GROK_BAD_DIRECTIVE", "something is wrong.", {
      importer: "/p/src/a.ts",
      loc: { file: "/p/src/a.ts", line: 2, column: 3 },
      frame: "> 2 | xyz\n    |   ^",
      hint: "fix it",
    });
    expect(formatError(error)).toBe(
      ["something is wrong.", "  in: /p/src/a.ts:2:3", "> 2 | xyz\n    |   ^", "  hint: fix it"].join("\n"),
    );
    expect(formatError(error, { location: false })).toBe(
      ["something is wrong.", "  hint: fix it"].join("\n"),
    );
    const report = badDirectivesError([located("src/lazy.ts", LAZY, "grok:pines in fog?with=960")], ROOT);
    const text = formatError(report);
    expect(text.split(codeFrame(LAZY, 2, 20))).toHaveLength(2);
    expect(text).not.toContain("  in: ");
  });
});
