import { describe, expect, it } from "vitest";
import type { ReadyImage } from "../engine/engine-types.js";
import { writeModule } from "./module-code.js";
import { type ShapeCodeOptions, shapeParts } from "./shape-code.js";

/** The module of a shape, with `pick` 1-based as a directive writes it. */
function shapeCode(
  images: ReadyImage[],
  alt: string,
  opts: Omit<ShapeCodeOptions, "pick"> & { pick: number },
) {
  return writeModule(shapeParts(images, alt, { ...opts, pick: opts.pick - 1 }));
}

const out = (name: string, width: number, format: "avif" | "webp") => ({
  file: `/c/variants/${name}.${format}`,
  width,
  height: width / 2,
  format,
});
const image: ReadyImage = {
  ...out("fallback", 1024, "webp"),
  prompt: "a fox",
  model: "m",
  index: 0,
  status: "cached",
  placeholder: "#336699",
  outputs: [
    out("a1", 320, "avif"),
    out("a2", 1024, "avif"),
    out("w1", 320, "webp"),
    out("w2", 1024, "webp"),
    out("w2", 1024, "webp"),
  ],
};

/** Runs module code with its imports replaced by their specifiers. */
function evaluate(code: string): { default: unknown; images: unknown[]; alt: string } {
  const body = code
    .replace(/^import (\w+) from (".*?");$/gm, "const $1 = $2;")
    .replace(/^export const (\w+) = /gm, "const $1 = exports.$1 = ")
    .replace(/^export default (.*);$/m, "exports.default = $1;");
  const exports: Record<string, unknown> = {};
  new Function("exports", body)(exports);
  return exports as never;
}

describe("shapeCode", () => {
  it("writes a picture: a srcset per format in order, the largest of the last format as the <img>", () => {
    const code = shapeCode([image], "A fox", { as: "picture", build: true, astro: false, pick: 1 });
    const mod = evaluate(code);
    expect(mod.default).toEqual({
      sources: {
        avif: "/c/variants/a1.avif?no-inline 320w, /c/variants/a2.avif?no-inline 1024w",
        webp: "/c/variants/w1.webp?no-inline 320w, /c/variants/w2.webp?no-inline 1024w",
      },
      img: { src: "/c/variants/w2.webp?no-inline", width: 1024, height: 512, placeholder: "#336699" },
    });
    expect(mod.alt).toBe("A fox");
    // A file shared by two outputs (a clamped width) is imported once.
    expect(code.match(/w2\.webp/g)).toHaveLength(1);
  });

  it("writes a srcset string, with ?url for Astro's dev server", () => {
    const webp = { ...image, outputs: image.outputs?.filter((o) => o.format === "webp") };
    const mod = evaluate(
      shapeCode([webp, webp], "a fox", { as: "srcset", build: false, astro: true, pick: 2 }),
    );
    expect(mod.default).toBe("/c/variants/w1.webp?url 320w, /c/variants/w2.webp?url 1024w");
    expect(mod.images).toHaveLength(2);
  });

  it("serves a stand-in without outputs at its one size", () => {
    const { outputs: _, ...standIn } = image;
    const mod = evaluate(
      shapeCode([standIn], "a fox", { as: "picture", build: false, astro: false, pick: 1 }),
    );
    expect(mod.default).toMatchObject({ sources: { webp: "/c/variants/fallback.webp 1024w" } });
  });
});
