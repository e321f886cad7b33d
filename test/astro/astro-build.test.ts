import { readFile } from "node:fs/promises";
import path from "node:path";
import { build } from "astro";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type AstroEmulator, startAstroEmulator } from "../helpers/astro-emulator.js";
import { builtImageReferences, type ImageReference } from "../helpers/astro-html.js";
import { type TempProject, tempProject } from "../helpers/temp-project.js";
import { imageFilesWithXmp, unmarked } from "../helpers/xmp-marking.js";

let api: AstroEmulator;
let project: TempProject;

beforeAll(async () => {
  api = await startAstroEmulator();
  project = await tempProject("astro-basic", { inRepository: true });
});

afterAll(async () => {
  await api?.close();
  await project?.remove();
});

const EXTENSION_FORMAT: Record<string, string> = {
  webp: "webp",
  avif: "heif",
  jpg: "jpeg",
  jpeg: "jpeg",
  png: "png",
};

/** Decodes the file a URL points at and checks that it is the format its name says. */
async function decode(outDir: string, reference: ImageReference, prefix: string) {
  expect(
    reference.url.startsWith(prefix),
    `${reference.url} (in ${reference.page}) starts with ${prefix}`,
  ).toBe(true);
  const file = path.join(outDir, decodeURI(reference.url.slice(prefix.length).split("?")[0] ?? ""));
  const meta = await sharp(await readFile(file)).metadata();
  const extension = path.extname(file).slice(1);
  expect(meta.format, `${reference.url} is ${extension}`).toBe(EXTENSION_FORMAT[extension]);
  if (reference.width) expect(meta.width, `${reference.url} is ${reference.width}w`).toBe(reference.width);
  return meta;
}

async function pageHtml(outDir: string, page: string): Promise<string> {
  return readFile(path.join(outDir, page), "utf8");
}

describe("astro build", () => {
  test("every image a page references exists and decodes at its size and format", async () => {
    await build({ root: project.root, logLevel: "warn" });
    const outDir = project.resolve("dist");
    const references = await builtImageReferences(outDir);
    const pages = new Set(references.map((r) => r.page));
    expect([...pages].sort()).toEqual([
      "gallery/index.html",
      "index.html",
      "mdx-post/index.html",
      "post/index.html",
    ]);
    for (const reference of references) await decode(outDir, reference, "/");

    const byId = (id: string) => references.filter((r) => r.id === id);
    // <Image width={320}>
    const [fixed] = byId("fixed");
    expect(fixed).toBeDefined();
    expect((await decode(outDir, fixed as ImageReference, "/")).width).toBe(320);
    // <Picture formats={["avif", "webp"]} widths={[160, 320]}>: two sources, each with both widths
    const sources = references.filter((r) => r.tag === "source" && r.page === "index.html");
    expect(sources.map((s) => `${s.type} ${s.width}`).sort()).toEqual([
      "image/avif 160",
      "image/avif 320",
      "image/webp 160",
      "image/webp 320",
    ]);
    // getImage({ src, width: 200, format: "png" })
    const [og] = byId("og");
    const ogMeta = await decode(outDir, og as ImageReference, "/");
    expect([ogMeta.format, ogMeta.width]).toEqual(["png", 200]);
    // The default export itself: Astro's image object of the variant (the original, scaled by the emulator)
    const [raw] = byId("raw");
    const rawMeta = await decode(outDir, raw as ImageReference, "/");
    const index = await pageHtml(outDir, "index.html");
    expect(index).toContain(`width="${rawMeta.width}" height="${rawMeta.height}"`);
    expect(index).toMatch(/id="meta">grok-imagine\/text-to-image-lite\|0\|a misty forest at dawn</);
  });

  test("every image file Astro ships carries the AI-generated XMP marking: <Image>, <Picture>, getImage(), Markdown, raw src", async () => {
    const outDir = project.resolve("dist");
    const images = await imageFilesWithXmp(outDir);
    expect(new Set(images.map((image) => image.format))).toEqual(new Set(["webp", "avif", "png", "jpeg"]));
    expect(images.length).toBeGreaterThan(15);
    expect(unmarked(images)).toEqual([]);
    const picture = images.find((image) => image.format === "avif");
    expect(picture?.xmp).toContain("a misty forest at dawn");
  });

  test("a raw img.src of a plain directive is the original's exact pixels: one lossy encode, the CDN's", async () => {
    const outDir = project.resolve("dist");
    const [raw] = (await builtImageReferences(outDir)).filter((r) => r.id === "raw");
    const shipped = await readFile(path.join(outDir, decodeURI((raw as ImageReference).url.slice(1))));
    const manifest = JSON.parse(
      await readFile(project.resolve(".grok-images", "manifest.json"), "utf8"),
    ) as Record<string, { prompt: string; originals: { sha256: string; format: string }[] }>;
    const entry = Object.values(manifest).find((e) => e.prompt === "a misty forest at dawn");
    const original = entry?.originals[0] as { sha256: string; format: string };
    const originalBytes = await readFile(
      project.resolve(
        ".grok-images",
        "originals",
        `${original.sha256}.${original.format === "jpeg" ? "jpg" : original.format}`,
      ),
    );
    const [a, b] = await Promise.all(
      [shipped, originalBytes].map((bytes) => sharp(bytes).raw().toBuffer({ resolveWithObject: true })),
    );
    expect([a?.info.width, a?.info.height]).toEqual([b?.info.width, b?.info.height]);
    expect(a?.data.equals(b?.data as Buffer)).toBe(true);
    // The original file stays byte-identical in the cache; the shipped copy differs only by its XMP.
    expect(shipped.equals(originalBytes)).toBe(false);
    expect((await sharp(shipped).metadata()).format).toBe(original.format);
  });

  test("Markdown and MDX `grok:` images become optimized images", async () => {
    const outDir = project.resolve("dist");
    const references = await builtImageReferences(outDir);
    const post = references.filter((r) => r.page === "post/index.html" && r.tag === "img");
    expect(post).toHaveLength(4);
    const html = await pageHtml(outDir, "post/index.html");
    expect(html).not.toMatch(/grok:|@grok-image|__ASTRO_IMAGE_/);
    // `?w=400` resizes the variant; `format=png` changes the variant format; Astro then optimizes to webp.
    // The last is the literal-space form `![a spaced alt](grok:a misty forest at dawn?w=120)`, inside a sentence.
    const widths = await Promise.all(post.map(async (r) => (await decode(outDir, r, "/")).width));
    expect(widths).toEqual([400, 240, 400, 120]);
    // An empty alt falls back to the prompt.
    expect(html).toContain('alt="a desert road"');
    expect(html).toContain('alt="a lighthouse"');
    expect(html).toMatch(/with literal spaces: <img [^>]*alt="a spaced alt"[^>]*> inline\./);
    expect(html).not.toContain("![");

    const mdx = references.filter((r) => r.page === "mdx-post/index.html");
    const mdxHtml = await pageHtml(outDir, "mdx-post/index.html");
    expect(mdxHtml).not.toMatch(/grok:|@grok-image/);
    expect(mdxHtml).not.toContain("![");
    expect(mdxHtml).toMatch(/<img [^>]*alt="a spaced mdx alt"/);
    expect(mdx).toHaveLength(3);
    expect(await Promise.all(mdx.map(async (r) => (await decode(outDir, r, "/")).width))).toEqual([
      120, 280, 120,
    ]);
  });

  test("the cache holds every generation, and a second build makes no API request", async () => {
    const manifest = JSON.parse(
      await readFile(project.resolve(".grok-images", "manifest.json"), "utf8"),
    ) as Record<string, { prompt: string; n: number; originals: unknown[] }>;
    const entries = Object.values(manifest).map((e) => `${e.prompt} x${e.n}`);
    expect(entries.sort()).toEqual([
      "a canyon at noon x1",
      "a desert road x1",
      "a lighthouse at night x1",
      "a misty forest at dawn x1",
      "a red fox in the snow x3",
    ]);
    expect(api.emulator.counters.submits).toBe(5);
    const before = api.requests();
    await build({ root: project.root, logLevel: "warn" });
    expect(api.requests() - before).toBe(0);
    expect((await builtImageReferences(project.resolve("dist"))).length).toBeGreaterThan(10);
  });

  test("URLs honour `base`", async () => {
    const outDir = project.resolve("dist-base");
    await build({ root: project.root, logLevel: "warn", base: "/sub/", outDir });
    const references = await builtImageReferences(outDir);
    expect(references.length).toBeGreaterThan(10);
    for (const reference of references) await decode(outDir, reference, "/sub/");
  });

  test("URLs honour `build.assetsPrefix`", async () => {
    const outDir = project.resolve("dist-cdn");
    const prefix = "https://cdn.example.com/static";
    await build({ root: project.root, logLevel: "warn", outDir, build: { assetsPrefix: prefix } });
    const references = await builtImageReferences(outDir);
    expect(references.length).toBeGreaterThan(10);
    for (const reference of references) await decode(outDir, reference, `${prefix}/`);
  });
});
