import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FINE_WINDOW_MS } from "../shared/file-identity.js";
import { parseDirective } from "./parse-directive.js";
import {
  type FoundDirective,
  findDirectives,
  type KnownSources,
  languageOf,
  type ScannedFile,
  scanTree,
} from "./scan-source.js";

const raws = (code: string, language?: Parameters<typeof findDirectives>[1]) =>
  findDirectives(code, language).map((d) => d.raw);

describe("findDirectives in scripts", () => {
  it("finds a dynamic import written as a template literal without substitutions", () => {
    const code = [
      "const a = import(`grok:a paper boat?w=64`);",
      "const b = import(/* webpackChunkName: 'x' */ `grok:a tall ship`);",
      // A substitution makes it a run-time value the bundler cannot resolve.
      "const c = import(`grok:$" + "{name}`);",
      "const d = `grok:not an import`;",
    ].join("\n");
    expect(raws(code, "script")).toEqual(["grok:a paper boat?w=64", "grok:a tall ship"]);
  });

  it("finds static, multi-line, type-only and side-effect imports in both quote styles", () => {
    const code = [
      `import forest from "grok:a misty forest?tier=pro";`,
      `import {`,
      `  images,`,
      `  alt as forestAlt,`,
      `} from 'grok:a sunny meadow';`,
      `import type Img from "grok:typed";`,
      `import hero, { images as all } from "grok:mixed";`,
      `import "grok:side effect";`,
    ].join("\n");
    expect(raws(code, "script")).toEqual([
      "grok:a misty forest?tier=pro",
      "grok:a sunny meadow",
      "grok:typed",
      "grok:mixed",
      "grok:side effect",
    ]);
  });

  it("finds export-from and literal dynamic imports", () => {
    const code = [
      `export { default as hero } from "grok:hero shot";`,
      `export * from 'grok:star';`,
      `export * as ns from "grok:namespace";`,
      `const lazy = await import(`,
      `  /* @vite-ignore */ "grok:lazy one?n=2"`,
      `);`,
      `const withOpts = import("grok:opts", { with: {} });`,
    ].join("\n");
    expect(raws(code, "script")).toEqual([
      "grok:hero shot",
      "grok:star",
      "grok:namespace",
      "grok:lazy one?n=2",
      "grok:opts",
    ]);
  });

  it("skips comments, other strings, template literals and computed imports", () => {
    const code = [
      `// import a from "grok:line comment";`,
      `/* import b from "grok:block comment"; */`,
      `/**`,
      ` * import c from "grok:doc comment";`,
      ` */`,
      `const s = "import d from 'grok:inside a string'";`,
      'const t = `import("grok:inside a template")`;',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the source under test holds a template literal
      "const u = import(`grok:template ${name}`);",
      `const v = import("grok:" + name);`,
      `import.meta.glob("grok:nope");`,
      `const important = "grok:plain string";`,
      `import real from "grok:the real one";`,
    ].join("\n");
    expect(raws(code, "script")).toEqual(["grok:the real one"]);
  });

  it("decodes string escapes the way the bundler sees the specifier", () => {
    expect(raws(`import a from 'grok:it\\'s \\u00e9t\\u{E9}';`, "script")).toEqual(["grok:it's été"]);
    expect(raws(`import a from "grok:why\\\\?tier=pro";`, "script")).toEqual(["grok:why\\?tier=pro"]);
  });

  it("reports the offset of the directive text", () => {
    const code = `\nimport a from "grok:here";`;
    const [found] = findDirectives(code, "script");
    expect(found?.index).toBe(code.indexOf("grok:here"));
  });

  it("reports the offset of each directive whatever the form of its import", () => {
    const code = [
      `import a from "grok:one";`,
      `export { b } from 'grok:two\\"';`,
      `const c = import( /* lazy */ "grok:three" , { with: {} });`,
      "const d = import(`grok:four`);",
      `import "grok:five";`,
    ].join("\n");
    const found = findDirectives(code, "script");
    expect(found.map((f) => [f.raw, f.index])).toEqual(
      ["grok:one", 'grok:two"', "grok:three", "grok:four", "grok:five"].map((raw, i) => [
        raw,
        code.indexOf(`grok:${["one", "two", "three", "four", "five"][i]}`),
      ]),
    );
  });

  it("finds imports in Vue, Svelte and Astro sources", () => {
    const vue = `<template><img :src="img.src" alt="x"></template>\n<script setup lang="ts">\nimport img from "grok:vue hero";\n</script>`;
    const astro = `---\nimport { Image } from "astro:assets";\nimport pic from "grok:astro pic?w=400";\n---\n<Image src={pic} alt="" />`;
    expect(raws(vue, "script")).toEqual(["grok:vue hero"]);
    expect(raws(astro, "script")).toEqual(["grok:astro pic?w=400"]);
  });
});

describe("findDirectives in Markdown", () => {
  it("finds bare, angle-bracket, %20 and titled images", () => {
    const md = [
      "# A page",
      "",
      "![a misty forest](grok:a%20misty%20forest?tier=pro)",
      '![angle](<grok:a misty forest?tier=pro> "A title")',
      "Inline ![titled](grok:titled 'single') and ![paren](grok:paren (A title)) too.",
      "![alt [nested]](grok:balanced_(parens)_ok)",
    ].join("\n");
    expect(raws(md, "markdown")).toEqual([
      "grok:a%20misty%20forest?tier=pro",
      "grok:a misty forest?tier=pro",
      "grok:titled",
      "grok:paren",
      "grok:balanced_(parens)_ok",
    ]);
  });

  it("maps the %20 form and the angle form to one generation", () => {
    const [bare, angle] = raws(
      "![a](grok:a%20misty%20forest?tier=pro)\n![b](<grok:a misty forest?tier=pro>)",
    );
    const defaults = { tier: "lite", format: "webp", quality: 80 } as const;
    expect(parseDirective(bare as string, defaults).generationKey).toBe(
      parseDirective(angle as string, defaults).generationKey,
    );
  });

  it("skips code spans, fenced code, HTML comments and links, with or without spaces", () => {
    const md = [
      "`![code](grok:inline code)`",
      "```md",
      "![fenced](grok:fenced)",
      "![fenced spaces](grok:fenced with spaces)",
      "```",
      "~~~",
      "![tilde](grok:tilde fenced)",
      "~~~",
      "Prose `![spaced code](grok:a spaced code span)` here.",
      "<!-- ![c](grok:commented) -->",
      "[a link](grok:not an image)",
      "[a spaced link](grok:not an image either)",
      "![kept](grok:kept)",
    ].join("\n");
    expect(raws(md, "markdown")).toEqual(["grok:kept"]);
  });

  it("finds the literal-space form, as the bundler receives it (spaces percent-encoded)", () => {
    const md = [
      "![a misty forest](grok:a misty forest?tier=pro)",
      'Text ![titled](grok:a red kite "A title") and ![](grok: a quiet harbour ?w=120 ) after.',
      '![parens](grok:a cat (watercolor) on a mat) ![q](grok:it\'s a "quoted" word)',
      "![two\nlines of alt](grok:a tide pool)",
      "![broken](grok:a destination",
      "over two lines)",
    ].join("\n");
    const found = findDirectives(md, "markdown");
    expect(found.map((d) => d.raw)).toEqual([
      "grok:a%20misty%20forest?tier=pro",
      "grok:a%20red%20kite",
      "grok:%20a%20quiet%20harbour%20?w=120",
      "grok:a%20cat%20(watercolor)%20on%20a%20mat",
      'grok:it\'s%20a%20"quoted"%20word',
      "grok:a%20tide%20pool",
    ]);
    expect(found[1]?.index).toBe(md.indexOf("grok:a red kite"));
    // What messages, listings and the workbench show and edit: the text as the file holds it.
    expect(found.map((d) => d.written)).toEqual([
      "grok:a misty forest?tier=pro",
      "grok:a red kite",
      "grok: a quiet harbour ?w=120",
      "grok:a cat (watercolor) on a mat",
      'grok:it\'s a "quoted" word',
      "grok:a tide pool",
    ]);
    // Forms the bundler receives as written carry no second spelling.
    expect(
      findDirectives("![a](grok:a%20kite)\n![b](<grok:a kite>)", "markdown").map((d) => d.written),
    ).toEqual([undefined, undefined]);
  });

  it("maps the literal-space, %20 and angle forms to one generation", () => {
    const defaults = { tier: "lite", format: "webp", quality: 80 } as const;
    const keys = raws(
      "![a](grok:a misty forest?tier=pro)\n![b](grok:a%20misty%20forest?tier=pro)\n![c](<grok:a misty forest?tier=pro>)",
      "markdown",
    ).map((raw) => parseDirective(raw, defaults).generationKey);
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(1);
  });

  it("reads quotes, dashes and ellipses as written, in every spelling, titled or not", () => {
    // The characters Astro's smartypants rewrites in Markdown text; the source keeps them as typed.
    const defaults = { tier: "lite", format: "webp", quality: 80 } as const;
    for (const prompt of [
      "a sailor's lantern",
      'a "quiet" harbour',
      "a storm -- then calm --- at dawn",
      "on...",
    ]) {
      const encoded = `grok:${prompt.replaceAll(" ", "%20")}`;
      const md = [
        `![a](grok:${prompt})`,
        `![b](grok:${prompt}?w=64 "A title")`,
        `![c](grok:${prompt}?w=64 'A title')`,
        `![d](<grok:${prompt}> "A title")`,
        `![e](<grok:${prompt}?w=64> (A title))`,
        `![f](${encoded} 'A title')`,
        `![g](${encoded}?w=64 (A title))`,
      ].join("\n");
      expect(raws(md, "markdown")).toEqual([
        encoded,
        `${encoded}?w=64`,
        `${encoded}?w=64`,
        `grok:${prompt}`,
        `grok:${prompt}?w=64`,
        encoded,
        `${encoded}?w=64`,
      ]);
      const quote = prompt.includes('"') ? "'" : '"';
      const [imported] = raws(`import a from ${quote}grok:${prompt}${quote};`, "script");
      const key = parseDirective(imported as string, defaults).generationKey;
      for (const raw of raws(md, "markdown")) {
        const directive = parseDirective(raw, defaults);
        expect(directive.generation.prompt).toBe(prompt);
        expect(directive.generationKey).toBe(key);
      }
    }
  });

  it("takes the literal-space form only on one line from the `(`, as the Astro integration does", () => {
    expect(raws("![a](\ngrok:a misty forest)\n![b](\ngrok:a%20misty%20forest)", "markdown")).toEqual([
      "grok:a%20misty%20forest",
    ]);
  });

  it("decodes CommonMark escapes and entities, keeping percent-encoding", () => {
    expect(raws("![e](grok:a%3F\\(b\\)?tier=pro&amp;w=5)", "markdown")).toEqual([
      "grok:a%3F(b)?tier=pro&w=5",
    ]);
  });

  it("finds both syntaxes in MDX", () => {
    const mdx = `import hero from "grok:mdx hero";\n\n# Title\n\n![inline](grok:mdx%20inline)\n`;
    expect(raws(mdx)).toEqual(["grok:mdx hero", "grok:mdx%20inline"]);
    expect(raws(mdx, "markdown")).toEqual(["grok:mdx%20inline"]);
  });
});

describe("languageOf", () => {
  it("classifies files by extension", () => {
    expect(languageOf("a/b.tsx")).toBe("script");
    expect(languageOf("a/b.svelte")).toBe("script");
    expect(languageOf("a/b.MD")).toBe("markdown");
    expect(languageOf("a/b.mdx")).toBe("auto");
    expect(languageOf("a/b.css")).toBeUndefined();
  });

  it("reads the extension as path.extname does: a dotfile's name is no extension", () => {
    expect(languageOf("page.astro")).toBe("script");
    expect(languageOf("a.b/c.Tsx")).toBe("script");
    expect(languageOf(".astro")).toBeUndefined();
    expect(languageOf("a/.md")).toBeUndefined();
    expect(languageOf("a.md/readme")).toBeUndefined();
    expect(languageOf("a/b.")).toBeUndefined();
    expect(languageOf("a/b..mdx")).toBe("auto");
  });
});

describe("scanTree", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), "grok-scan-"));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function put(rel: string, text: string): Promise<void> {
    const file = path.join(root, rel);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text);
  }

  it("walks source files and skips dependencies, output, hidden dirs, the cache and ignored paths", async () => {
    await put("src/main.ts", `import a from "grok:main";\nimport b from "grok:second";`);
    await put("src/pages/post.md", "![x](grok:post%20image)");
    await put("src/pages/deep/page.mdx", `import c from "grok:mdx import";\n![y](grok:mdx%20image)`);
    await put("src/App.vue", `<script setup>import d from "grok:vue";</script>`);
    await put("src/styles.css", `/* grok:not scanned */`);
    await put("node_modules/pkg/index.js", `import e from "grok:dependency";`);
    await put("dist/assets/x.js", `import f from "grok:built";`);
    await put(".astro/types.ts", `import g from "grok:generated";`);
    await put(".git/hooks/x.js", `import h from "grok:git";`);
    await put("images-cache/readme.md", "![i](grok:cache)");
    await put("legacy/old.ts", `import j from "grok:legacy";`);
    await put("src/skip.test.ts", `import k from "grok:ignored file";`);
    await symlink(path.join(root, "src"), path.join(root, "linked"));

    const found = await scanTree(root, { cacheDir: "images-cache", ignore: ["legacy/**", "**/*.test.ts"] });
    expect(found.map((d) => [path.relative(root, d.file), d.raw])).toEqual([
      [path.join("src", "App.vue"), "grok:vue"],
      [path.join("src", "main.ts"), "grok:main"],
      [path.join("src", "main.ts"), "grok:second"],
      [path.join("src", "pages", "deep", "page.mdx"), "grok:mdx import"],
      [path.join("src", "pages", "deep", "page.mdx"), "grok:mdx%20image"],
      [path.join("src", "pages", "post.md"), "grok:post%20image"],
    ]);
    expect(found.every((d) => path.isAbsolute(d.file))).toBe(true);
  });

  it("skips the folders the bundler writes to, but never the root nor a folder outside it", async () => {
    await put("src/main.ts", `import a from "grok:main";`);
    await put("build/site/assets/x.js", `import b from "grok:built";`);
    await put("build/keep.ts", `import c from "grok:beside the output";`);
    const outDirs = new Set([path.join(root, "build", "site"), root, path.dirname(root)]);
    const found = await scanTree(root, { outDirs });
    expect(found.map((d) => d.raw)).toEqual(["grok:beside the output", "grok:main"]);
  });

  it("scans hidden source folders (.storybook) but not the folders of tools", async () => {
    await put(".storybook/preview.ts", `import a from "grok:storybook backdrop";`);
    await put(".svelte-kit/generated/x.js", `import b from "grok:generated";`);
    const found = await scanTree(root);
    expect(found.map((d) => d.raw)).toEqual(["grok:storybook backdrop"]);
  });

  it("follows relative imports out of the root, as the bundler does, and what those import", async () => {
    const site = path.join(root, "site");
    await put(
      "site/src/main.ts",
      `import { hero } from "../../shared/images.js";\nimport a from "grok:inside";`,
    );
    await put("shared/images.ts", `export { default as hero } from "grok:a shared hero";\nimport "./more";`);
    await put("shared/more/index.ts", `import x from "grok:one more level";`);
    await put("shared/unused.ts", `import y from "grok:nobody imports this";`);
    // Out of the root from deeper down, and by a path that only leaves it after going down first.
    await put(
      "site/src/pages/deep/page.ts",
      `import "../../../../shared/deep.js";\nimport "./x/../../../../../shared/winding.js";\nimport "../../../x.js";`,
    );
    await put("shared/deep.ts", `import d from "grok:from deep down";`);
    await put("shared/winding.ts", `import w from "grok:a winding path";`);
    await put("site/x.ts", `import r from "grok:at the root";`);
    const found = await scanTree(site);
    expect(found.map((d) => [path.relative(root, d.file), d.raw])).toEqual([
      [path.join("site", "src", "main.ts"), "grok:inside"],
      [path.join("site", "x.ts"), "grok:at the root"],
      [path.join("shared", "deep.ts"), "grok:from deep down"],
      [path.join("shared", "images.ts"), "grok:a shared hero"],
      [path.join("shared", "more", "index.ts"), "grok:one more level"],
      [path.join("shared", "winding.ts"), "grok:a winding path"],
    ]);
  });

  it("reads no file that kept the identity an earlier scan knew it by, and tells what it read once settled", async () => {
    const site = path.join(root, "site");
    await put("site/src/main.ts", `import a from "grok:main";\nimport s from "../../shared/images.js";`);
    await put("site/src/other.ts", `import b from "grok:other";`);
    await put("shared/images.ts", `export { default } from "grok:shared";`);
    const told = new Map<string, { identity: string; scanned: ScannedFile }>();
    const known: KnownSources = {
      get: (file, identity) => (told.get(file)?.identity === identity ? told.get(file)?.scanned : undefined),
      set: (file, identity, scanned) => told.set(file, { identity, scanned }),
    };
    const raws = async () =>
      (await scanTree(site, { known })).map((d) => `${path.basename(d.file)} ${d.raw}`);
    const all = ["main.ts grok:main", "other.ts grok:other", "images.ts grok:shared"];

    // Just written: read, but too fresh for its identity to stand for it.
    expect(await raws()).toEqual(all);
    expect(told.size).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, FINE_WINDOW_MS + 20));
    expect(await raws()).toEqual(all);
    // Only files under the root are known; the shared file outside it is found through main.ts's import.
    expect([...told.keys()].map((file) => path.basename(file)).sort()).toEqual(["main.ts", "other.ts"]);
    expect(told.get(path.join(site, "src", "main.ts"))?.scanned.leaving).toEqual([
      path.join(root, "shared", "images.js"),
    ]);

    // What `known` says of an unchanged file is what the scan gives: the file is not read.
    const other = told.get(path.join(site, "src", "other.ts"))?.scanned.found as FoundDirective[];
    other.push({ raw: "grok:only in the record", index: 30 });
    expect(await raws()).toEqual([...all.slice(0, 2), "other.ts grok:only in the record", all[2]]);

    // Changed, it is read again.
    await put("site/src/other.ts", `import b from "grok:other, edited";`);
    expect(await raws()).toContain("other.ts grok:other, edited");
    expect(await raws()).not.toContain("other.ts grok:only in the record");
  });

  it("returns nothing for a tree without directives", async () => {
    await put("index.js", "export const x = 1;");
    expect(await scanTree(root)).toEqual([]);
  });
});

describe("front matter", () => {
  it("finds content collection image fields, quoted or bare, and ignores the body's plain text", () => {
    const md = [
      "---",
      'title: "grok: a note"',
      'cover: "grok:a misty forest?w=800"',
      "thumb: 'grok:a red kite'",
      "hero: grok:a quiet harbour?tier=pro # the big one",
      "gallery:",
      '  - "grok:a tide pool"',
      "---",
      "cover: grok:not front matter",
      "",
    ].join("\n");
    expect(findDirectives(md, "markdown").map((d) => d.raw)).toEqual([
      "grok:a misty forest?w=800",
      "grok:a red kite",
      "grok:a quiet harbour?tier=pro",
      "grok:a tide pool",
    ]);
  });
});
