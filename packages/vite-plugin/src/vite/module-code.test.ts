import { describe, expect, it } from "vitest";
import type { ReadyImage } from "../engine/engine-types.js";
import { moduleCode } from "./module-code.js";
import { fromVirtualId, toVirtualId } from "./virtual-id.js";

const image = (index: number, file: string): ReadyImage => ({
  file,
  width: 320,
  height: 180,
  format: "webp",
  prompt: 'a "quoted" fox',
  model: "grok-imagine/text-to-image-lite",
  index,
  status: "cached",
});

/** A metadata-mode module's default export, evaluated with `image0` (an expression) as the host's image object. */
async function exportedWith(code: string, image0: string) {
  const hosted = code.replace(/^import image0 from .*$/m, `const image0 = ${image0};`);
  return (await import(`data:text/javascript,${encodeURIComponent(hosted)}`)).default;
}

describe("moduleCode", () => {
  const images = [image(0, "/cache/variants/a.webp"), image(1, "C:\\cache\\variants\\b.webp")];

  it("is deterministic and imports each variant by path (never inlined in a build)", () => {
    const code = moduleCode(images, 'a "quoted" fox', "url", true);
    expect(code).toBe(moduleCode(images, 'a "quoted" fox', "url", true));
    expect(code).toContain('import image0 from "/cache/variants/a.webp?no-inline";');
    expect(code).toContain('import image1 from "C:/cache/variants/b.webp?no-inline";');
    expect(code).toContain('export const alt = "a \\"quoted\\" fox";');
    expect(code).toContain("export default images[0];");
  });

  it("exports the picked image as the default, and imports the dev client first when asked", async () => {
    const code = moduleCode(images, "fox", "url", false, {
      pick: 2,
      clientImport: "virtual:grok-image/dev-client",
    });
    expect(code.startsWith('import "virtual:grok-image/dev-client";\n')).toBe(true);
    expect(code).toContain("export default images[1];");
    // A pick beyond the images (a placeholder of fewer images) falls back to the last one, never undefined.
    expect(moduleCode(images, "fox", "url", false, { pick: 7 })).toContain("export default images[1];");
  });

  it("builds plain image objects around the URL in url mode", async () => {
    const code = moduleCode(images, "fox", "url", false).replace(
      /^import (\w+) from .*$/gm,
      'const $1 = "/u/$1";',
    );
    const mod = await import(`data:text/javascript,${encodeURIComponent(code)}`);
    expect(mod.default).toEqual({
      src: "/u/image0",
      width: 320,
      height: 180,
      format: "webp",
      prompt: 'a "quoted" fox',
      model: "grok-imagine/text-to-image-lite",
      index: 0,
    });
    expect(mod.images.map((i: { index: number }) => i.index)).toEqual([0, 1]);
  });

  it("extends the host's image object in place in metadata mode, keeping its hidden fields", async () => {
    const code = moduleCode([images[0] as ReadyImage], "fox", "metadata", true);
    expect(code).not.toContain("?no-inline");
    const host = `Object.defineProperty({ src: "/_astro/a.webp", width: 1, height: 1, format: "webp" }, "fsPath", { value: "/cache/variants/a.webp", enumerable: false })`;
    const exported = await exportedWith(code, host);
    expect(exported.fsPath).toBe("/cache/variants/a.webp");
    expect(exported).toMatchObject({ src: "/_astro/a.webp", prompt: 'a "quoted" fox', index: 0 });
  });

  it("adds the grok fields out of Astro's sight in metadata mode: read as fields, never listed or hashed", async () => {
    // One object for both modules, as two directives whose images are one file import one: the last one names it.
    (globalThis as { sharedImage?: object }).sharedImage = {
      src: "/_astro/a.webp",
      width: 1,
      height: 1,
      format: "webp",
    };
    const load = (prompt: string) =>
      exportedWith(
        moduleCode([{ ...(images[0] as ReadyImage), prompt }], prompt, "metadata", true),
        "globalThis.sharedImage",
      );
    const first = await load("a red fox");
    expect([first.prompt, first.model, first.index]).toEqual([
      "a red fox",
      "grok-imagine/text-to-image-lite",
      0,
    ]);
    // Astro's transform hash reads the enumerable fields (Object.entries), as JSON and spreads do.
    expect(Object.keys(first)).toEqual(["src", "width", "height", "format"]);
    expect(JSON.stringify(first)).not.toContain("fox");
    const second = await load("a grey fox");
    expect(second).toBe(first);
    expect(second.prompt).toBe("a grey fox");
  });

  it("adds the placeholder field in metadata mode only for an image that has one", async () => {
    const load = (image: ReadyImage) =>
      exportedWith(
        moduleCode([image], "fox", "metadata", true),
        '{ src: "/_astro/a.webp", width: 1, height: 1, format: "webp" }',
      );
    const preview = "data:image/webp;base64,UklGRg==";
    const withPreview = await load({ ...(images[0] as ReadyImage), placeholder: preview });
    expect(withPreview.placeholder).toBe(preview);
    expect(withPreview.index).toBe(0);
    expect(Object.keys(withPreview)).toEqual(["src", "width", "height", "format"]);
    const without = await load(images[0] as ReadyImage);
    expect("placeholder" in without).toBe(false);
    expect(without.model).toBe("grok-imagine/text-to-image-lite");
  });
});

describe("virtual ids", () => {
  it("round-trip the directive, carry no extension or query, and end with a readable name", () => {
    const raw = "grok:a misty forest. At dawn?tier=pro&w=640";
    const id = toVirtualId(raw, "a misty forest. At dawn");
    expect(id.startsWith("\0grok-image:")).toBe(true);
    expect(id).not.toMatch(/[.?%]/);
    expect(id.endsWith("/grok-a-misty-forest-at-dawn")).toBe(true);
    expect(fromVirtualId(id)).toBe(raw);
    expect(fromVirtualId(`${id}?import`)).toBe(raw);
    expect(fromVirtualId("/src/main.ts")).toBeUndefined();
  });
});
