import { describe, expect, it } from "vitest";
import type { ReadyImage } from "../engine/engine-types.js";
import { applySplices } from "../shared/splices.js";
import { inlineDirectives } from "./inline-directives.js";
import { moduleCode, moduleParts, REFUSED_PARTS } from "./module-code.js";

function image(index: number): ReadyImage {
  return {
    file: `/site/.grok-images/variants/${String(index).repeat(32)}.jpg`,
    width: 640,
    height: 480,
    format: "jpeg",
    prompt: "a paper boat",
    model: "grok-imagine/text-to-image-lite",
    index,
    status: "cached",
  } as ReadyImage;
}

/** Runs a module whose imports are all default imports, with each imported file standing as `{ file }`. */
function run(code: string, names: readonly string[]): Record<string, unknown> {
  const body = code
    .replace(/import (\w+) from ("[^"]+");/g, "const $1 = { file: $2 };")
    .replace(/export const (\w+) =/g, "const $1 =")
    .replace(/export default (.+);/, "const __default = $1;");
  return new Function(`${body}\nreturn { ${names.join(", ")} };`)() as Record<string, unknown>;
}

/** The rewritten code alone. */
async function inline(...args: Parameters<typeof inlineDirectives>): Promise<string | undefined> {
  return (await inlineDirectives(...args))?.code;
}

describe("inlineDirectives", () => {
  it("gives the importer exactly the exports the directive's module has, on the lines it had", async () => {
    for (const host of ["metadata", "url"] as const) {
      const module = moduleCode([image(1), image(2)], "two boats", host, true, { pick: 2 });
      const parts = moduleParts([image(1), image(2)], "two boats", host, true, { pick: 2 });
      const code = [
        'import { Image } from "astro:assets";',
        "import boat, {",
        "  images as boats,",
        "  alt,",
        '} from "grok:a paper boat?n=2&pick=2";',
        "export const page = [boat, boats, alt];",
      ].join("\n");
      const inlined = await inline(code, async () => parts);
      expect(inlined).toBeDefined();
      expect(inlined).not.toContain("grok:");
      expect(inlined?.split("\n")).toHaveLength(code.split("\n").length);
      expect(inlined?.split("\n").at(-1)).toBe("export const page = [boat, boats, alt];");

      const original = run(module, ["images", "alt", "__default"]);
      const rewritten = run((inlined as string).replace('import { Image } from "astro:assets";', ""), [
        "boat",
        "boats",
        "alt",
      ]);
      expect(rewritten).toEqual({ boat: original.__default, boats: original.images, alt: original.alt });
      expect(rewritten.boat).toBe((rewritten.boats as unknown[])[1]);
    }
  });

  it("keeps strings that name the image bindings as they are", async () => {
    // "${image0}" spelled out of parts, so that it is plainly a string here too.
    const tricky = {
      ...image(7),
      prompt: `image0 says "$${"{"}image0}" \\ \`image0\` {image0: 1}`,
      index: 0,
    };
    for (const host of ["metadata", "url"] as const) {
      const module = moduleCode([tricky as ReadyImage], 'alt "image0"', host, true);
      const parts = moduleParts([tricky as ReadyImage], 'alt "image0"', host, true);
      const inlined = await inline('import x, { alt } from "grok:x";\n', async () => parts);
      expect(inlined).toBeDefined();
      const original = run(module, ["images", "alt", "__default"]);
      expect(run(inlined as string, ["x", "alt"])).toEqual({ x: original.__default, alt: original.alt });
    }
  });

  it("writes a directive of one image as the image itself, with no array around it", async () => {
    for (const host of ["metadata", "url"] as const) {
      const module = moduleCode([image(9)], "a boat", host, true);
      const parts = moduleParts([image(9)], "a boat", host, true);
      const code = 'import boat, { default as same, alt } from "grok:a boat";\n';
      const inlined = (await inline(code, async () => parts)) as string;
      expect(inlined).not.toContain("_images");
      expect(inlined.match(/from "/g)).toHaveLength(1);
      const original = run(module, ["images", "alt", "__default"]);
      const rewritten = run(inlined, ["boat", "same", "alt"]);
      expect(rewritten).toEqual({ boat: original.__default, same: original.__default, alt: original.alt });
      expect(rewritten.same).toBe(rewritten.boat);
      // With `images` imported, the array is the module's own.
      const withImages = await inline('import boat, { images } from "grok:a boat";\n', async () => parts);
      const both = run(withImages as string, ["boat", "images"]);
      expect(both).toEqual({ boat: original.__default, images: original.images });
      expect(both.boat).toBe((both.images as unknown[])[0]);
    }
  });

  it("imports the files relative to the importing file, as a local image would be", async () => {
    const module = moduleParts([image(8)], "a boat", "url", true);
    const code = 'import boat from "grok:a boat";\n';
    const inlined = await inline(code, async () => module, "/site/src/pages/index.astro");
    expect(inlined).toContain(`from "../../.grok-images/variants/${"8".repeat(32)}.jpg?no-inline";`);
    // From the project root, the cache's dot folder must not read as a package name.
    const fromRoot = await inline(code, async () => module, "/site/main.js");
    expect(fromRoot).toContain(`from "./.grok-images/variants/${"8".repeat(32)}.jpg?no-inline";`);
  });

  it("stands in for a refused miss as its module does: no image, an empty alt", async () => {
    const inlined = await inline('import x, { images } from "grok:x";\n', async () => REFUSED_PARTS);
    expect(run(inlined as string, ["x", "images"])).toEqual({ x: undefined, images: [] });
  });

  it("keeps every import it cannot stand in for", async () => {
    const module = moduleParts([image(3)], "a boat", "metadata", true);
    const moduleOf = async (specifier: string) => (specifier.includes("uncached") ? undefined : module);
    const kept = [
      'import * as all from "grok:a namespace";',
      'import { other } from "grok:an unknown export";',
      'import data from "grok:with attributes" with { type: "json" };',
      'import missing from "grok:uncached";',
    ];
    const code = [
      ...kept,
      'import ok from "grok:a boat";',
      "run();",
      'import late from "grok:after a statement";',
    ];
    const inlined = await inline(code.join("\n"), moduleOf);
    const lines = inlined?.split("\n") ?? [];
    expect(lines.slice(0, kept.length)).toEqual(kept);
    expect(lines[kept.length]).toContain("const ok = ");
    expect(lines.slice(-2)).toEqual(["run();", 'import late from "grok:after a statement";']);
  });

  it("inlines srcset modules alike, and leaves a module alone when nothing can be inlined", async () => {
    const code = 'import boat from "grok:a boat?as=srcset&w=320;640";\nexport default boat;\n';
    const srcset = moduleParts([image(4), image(5)], "a boat", "url", true, { as: "srcset" });
    const inlined = await inline(code, async () => srcset);
    const module = moduleCode([image(4), image(5)], "a boat", "url", true, { as: "srcset" });
    expect(run((inlined as string).replace("export default boat;", ""), ["boat"]).boat).toEqual(
      run(module, ["__default"]).__default,
    );
    expect(await inline(code, async () => undefined)).toBeUndefined();
    // A module that imports something for its side effects (the dev client) keeps its import.
    const withClient = moduleParts([image(6)], "a boat", "url", false, { clientImport: "virtual:client" });
    expect(await inline(code, async () => withClient)).toBeUndefined();
  });

  it("says what it replaced, so that the same code is rewritten again without being read", async () => {
    const module = moduleParts([image(3)], "a boat", "metadata", true);
    const code = [
      'import { Image } from "astro:assets";',
      'import a from "grok:a boat";',
      "import b,",
      '  { alt as bAlt } from "grok:b boat";',
      'import * as c from "grok:c boat";',
      "export default [a, b, bAlt, c];",
    ].join("\n");
    const inlined = await inlineDirectives(code, async () => module, "/site/src/main.js");
    expect(inlined?.specifiers).toEqual(["grok:a boat", "grok:b boat"]);
    expect(inlined?.splices.map(([start, end]) => code.slice(start, end))).toEqual([
      'import a from "grok:a boat";',
      'import b,\n  { alt as bAlt } from "grok:b boat";',
    ]);
    expect(applySplices(code, inlined?.splices ?? [])).toBe(inlined?.code);
    // Splices made from other code are refused rather than applied.
    expect(applySplices(code.slice(0, 40), inlined?.splices ?? [])).toBeUndefined();
    expect(applySplices(code, [...(inlined?.splices ?? [])].reverse())).toBeUndefined();
    expect(applySplices(code, [[0, "4", "x"] as unknown as [number, number, string]])).toBeUndefined();
    expect(applySplices(code, [[0, 4, null] as unknown as [number, number, string]])).toBeUndefined();
  });
});
