import { parseAst } from "vite";
import { describe, expect, it } from "vitest";
import { leadingImports } from "./leading-imports.js";

interface Node {
  type: string;
  start: number;
  end: number;
  [key: string]: unknown;
}

/** Each case, and how many imports the lexer reads at its start: all of them but where it must stop. */
const CASES: [code: string, read: number][] = [
  [
    [
      'import { renderComponent as $$renderComponent, createComponent } from "astro/compiler-runtime";',
      'import { Image } from "astro:assets";',
      'import hero from "grok:a misty forest?tier=pro";',
      "import boats, { images as all, alt } from 'grok:two boats?n=2';",
      "",
      "const $$Index = createComponent(() => hero);",
    ].join("\n"),
    4,
  ],
  ['import{a as b,c}from"grok:x";import"y"', 2],
  [
    "/* a */ import x from 'grok:y' // tail\n/* more\nlines */import {images as i, alt,} from \"grok:z\"\n;\nrun()",
    2,
  ],
  ['import a from "a"\nimport b from "b"\nconst c = 1;\nimport d from "d";', 2],
  [
    'import * as ns from "grok:n"; import j from "./x.json" with { type: "json" }; import d, * as all from "x"\nimport k from "grok:k"',
    4,
  ],
  ['import j from "./x.json"\n  with {"type": \'json\',}\nimport k from "k";', 2],
  ['import { "images" as pictures, default as hero } from "grok:x";', 1],
  ['import a from "grok:\\x41";import b from "grok:b"', 2],
  ['import ñandú from "grok:x"; import b from "b"', 2],
  ['import from from "from";', 1],
  ['#!/usr/bin/env node\nimport a from "a";', 1],
  ['import.meta.env; import a from "a";', 0],
  ['import("a"); import b from "b";', 0],
  ['import \\u0061 from "x"; import b from "b";', 0],
  ['import a\\u0062 from "x"; import b from "b";', 0],
  ['import aé from "x"; import $b_1 from "b";', 2],
  ['import\u00a0a\u2028from\t"a";\r\nimport\fb from\v"b"', 2],
  ['"use strict"; import a from "a";', 0],
  ['importX; import a from "a";', 0],
  ['export { a } from "grok:a"; import b from "grok:b";', 0],
  ['import a from "a"; import b from "b"\n(run)()', 2],
];

describe("leadingImports", () => {
  it("reads the imports a module starts with as the bundler's parser does, and stops at anything else", () => {
    for (const [code, read] of CASES) {
      const found = leadingImports(code);
      expect(found, code).toHaveLength(read);
      const body = (parseAst(code) as unknown as { body: Node[] }).body;
      for (const [i, statement] of found.entries()) {
        const node = body[i] as Node;
        expect(node.type, code).toBe("ImportDeclaration");
        expect([statement.start, statement.end], code).toEqual([node.start, node.end]);
        const source = (node.source as { value: string }).value;
        // An escape is read past, never decoded.
        expect(statement.source, code).toBe(source.includes("A") ? undefined : source);
        const specifiers = node.specifiers as Node[];
        const attributes = (node.attributes as unknown[]).length > 0;
        if (attributes || specifiers.some((s) => s.type === "ImportNamespaceSpecifier")) {
          expect(statement.bindings, code).toBeUndefined();
          continue;
        }
        const bindings = specifiers.map((s) => {
          const imported = s.imported as { name?: string; value?: string } | undefined;
          return {
            imported: s.type === "ImportDefaultSpecifier" ? "default" : (imported?.name ?? imported?.value),
            local: (s.local as { name: string }).name,
          };
        });
        expect(statement.bindings, code).toEqual(bindings);
      }
    }
  });

  it("reads nothing from a module that is not one it can read with certainty", () => {
    for (const code of [
      "",
      "import",
      'import x from "unterminated',
      "import { a as } from 'x'",
      "import x, from 'y'",
    ]) {
      expect(leadingImports(code), code).toEqual([]);
    }
  });
});
