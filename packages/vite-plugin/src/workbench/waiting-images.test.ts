import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import sharp from "sharp";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseDirective } from "../directive/parse-directive.js";
import { resolveOptions } from "../options/resolve-options.js";
import { expectedSize, waitingImages, waitingName } from "./waiting-images.js";

const parse = (raw: string) => parseDirective(raw, { tier: "lite", format: "webp", quality: 80 });

describe("expectedSize", () => {
  it("has the shape the directive asks for, as the derived image will", () => {
    expect(expectedSize(parse("grok:x"))).toEqual({ width: 1024, height: 1024 });
    expect(expectedSize(parse("grok:x?tier=pro&ratio=16:9&w=320"))).toEqual({ width: 320, height: 180 });
    expect(expectedSize(parse("grok:x?tier=pro&ratio=9:16&h=320"))).toEqual({ width: 180, height: 320 });
    expect(expectedSize(parse("grok:x?w=120&h=90"))).toEqual({ width: 120, height: 90 });
    expect(expectedSize(parse("grok:x?tier=pro&ratio=16:9&w=200&h=200&fit=inside"))).toEqual({
      width: 200,
      height: 113,
    });
    // Never larger than the original, as a derived image never is.
    expect(expectedSize(parse("grok:x?w=4000"))).toEqual({ width: 1024, height: 1024 });
  });
});

describe("waitingImages", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "grok-waiting-"));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it("renders one image per take, once, named so the dev client finds it in any URL", async () => {
    const options = resolveOptions({ mode: "generate" }, { root, env: {}, command: "serve" });
    const directive = parse("grok:a paper boat?n=2&w=160&h=90&format=png");
    const images = await waitingImages(directive, "generating", options);
    expect(images).toHaveLength(2);
    for (const [i, image] of images.entries()) {
      expect(image).toMatchObject({ width: 160, height: 90, format: "png", index: i, status: "placeholder" });
      expect(waitingName(image.file)).toBe(basename(image.file, ".png"));
      expect(basename(image.file)).toMatch(/^grok-generating-[a-f0-9]+-\d\.png$/);
      const meta = await sharp(image.file).metadata();
      expect([meta.width, meta.height, meta.format]).toEqual([160, 90, "png"]);
    }
    // The same request finds the same files; a failure has files of its own.
    expect((await waitingImages(directive, "generating", options)).map((i) => i.file)).toEqual(
      images.map((i) => i.file),
    );
    const failed = await waitingImages(directive, "failed", options);
    expect(basename(failed[0]?.file ?? "")).toMatch(/^grok-failed-/);
  });
  it("gives an as=srcset|picture take a waiting file per width and format, each of the size it will have", async () => {
    const options = resolveOptions({ mode: "generate" }, { root, env: {}, command: "serve" });
    const directive = parse("grok:a paper boat?tier=pro&ratio=16:9&w=64;128&format=avif;webp&as=picture");
    const [take] = await waitingImages(directive, "generating", options);
    const outputs = take?.outputs ?? [];
    expect(outputs.map((o) => [o.width, o.height, o.format])).toEqual([
      [64, 36, "avif"],
      [128, 72, "avif"],
      [64, 36, "webp"],
      [128, 72, "webp"],
    ]);
    expect(new Set(outputs.map((o) => waitingName(o.file))).size).toBe(4);
    for (const output of outputs) {
      const meta = await sharp(output.file).metadata();
      expect([meta.width, meta.height, meta.format], output.file).toEqual([
        output.width,
        output.height,
        output.format === "avif" ? "heif" : output.format,
      ]);
    }
    // A plain directive's takes have none: its one file is the image.
    expect(
      (await waitingImages(parse("grok:a paper boat?w=64"), "generating", options))[0]?.outputs,
    ).toBeUndefined();
  });
});
