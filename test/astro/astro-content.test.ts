import { cp, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { build } from "astro";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type AstroEmulator, startAstroEmulator } from "../helpers/astro-emulator.js";
import { builtImageReferences, type ImageReference } from "../helpers/astro-html.js";
import { type TempProject, tempProjects } from "../helpers/temp-project.js";

let api: AstroEmulator;
let project: TempProject;
const projects = tempProjects();
const copyFixture = () => projects.copy("astro-content", { inRepository: true });

beforeAll(async () => {
  api = await startAstroEmulator();
  project = await copyFixture();
});

afterAll(async () => {
  await api?.close();
  await projects.removeAll();
});

/** Width and format of the file a root-relative URL points at, which must exist in `outDir`. */
async function decode(outDir: string, reference: ImageReference) {
  expect(reference.url, `${reference.url} in ${reference.page}`).toMatch(/^\/_astro\/[^/]+\.webp$/);
  const meta = await sharp(await readFile(path.join(outDir, reference.url))).metadata();
  return `${meta.format} ${meta.width}x${meta.height}`;
}

/** Another copy of the fixture with the first one's cache, so it builds without generating again. */
async function cachedCopy(): Promise<TempProject> {
  const other = await copyFixture();
  await cp(project.resolve(".grok-images"), other.resolve(".grok-images"), { recursive: true });
  return other;
}

describe("astro build with content collections", () => {
  test("an entry's body images and its grokImageSchema field become optimized images", async () => {
    await build({ root: project.root, logLevel: "warn" });
    const outDir = project.resolve("dist");
    const references = await builtImageReferences(outDir);

    const harbourHtml = await readFile(path.join(outDir, "notes/harbour/index.html"), "utf8");
    expect(harbourHtml).not.toMatch(/grok:|@grok-image|__ASTRO_IMAGE_/);
    const harbour = references.filter((r) => r.page === "notes/harbour/index.html");
    // The cover (`<Image width={200}>` of a 400-wide variant), then the body: `?w=300`, `?w=200&format=png`
    // (optimized to webp by Astro) and the first image again.
    expect(harbour.map((r) => r.id ?? "body")).toEqual(["cover", "body", "body", "body"]);
    expect(await Promise.all(harbour.map((r) => decode(outDir, r)))).toEqual([
      "webp 200x200",
      "webp 300x300",
      "webp 200x200",
      "webp 300x300",
    ]);
    expect(harbour[3]?.url).toBe(harbour[1]?.url);
    expect(harbourHtml).toContain('alt="a fishing boat &amp; its nets"');
    // The field is Astro's ImageMetadata of the variant itself.
    expect(harbourHtml).toContain('<p id="cover-size">400x400</p>');

    // An MDX entry (rendered through its own module) resolves too.
    const meadow = references.filter((r) => r.page === "notes/meadow/index.html");
    expect(await Promise.all(meadow.map((r) => decode(outDir, r)))).toEqual(["webp 160x160"]);
  });

  test("the cache holds every generation, and a second build makes no API request", async () => {
    const manifest = JSON.parse(
      await readFile(project.resolve(".grok-images", "manifest.json"), "utf8"),
    ) as Record<string, { prompt: string }>;
    expect(
      Object.values(manifest)
        .map((e) => e.prompt)
        .sort(),
    ).toEqual([
      "a fishing boat & its nets",
      "a harbour at dusk",
      "a lighthouse on a cliff",
      "a meadow in spring",
    ]);
    const before = api.requests();
    await build({ root: project.root, logLevel: "warn" });
    expect(api.requests() - before).toBe(0);
    const html = await readFile(project.resolve("dist", "notes/harbour/index.html"), "utf8");
    expect(html).not.toMatch(/grok:|@grok-image|__ASTRO_IMAGE_/);
  });

  test("a plain image() field holding a directive fails the build, naming the entry and the fix", async () => {
    const other = await cachedCopy();
    const config = other.resolve("src/content.config.ts");
    await writeFile(config, (await readFile(config, "utf8")).replace("grokImageSchema(image)", "image()"));
    const before = api.requests();
    const failure = build({ root: other.root, logLevel: "silent" });
    await expect(failure).rejects.toMatchObject({
      code: "GROK_UNRESOLVED_IMAGE",
      message: expect.stringContaining(
        'src/content/notes/harbour.md → cover: "grok:a lighthouse on a cliff?w=400"',
      ),
    });
    await expect(failure).rejects.toThrow(/grokImageSchema/);
    expect(api.requests() - before).toBe(0);
  });

  test("an image left unresolved in the built HTML fails the build", async () => {
    const other = await cachedCopy();
    await writeFile(
      other.resolve("src/pages/raw.md"),
      '# Raw HTML is not rewritten\n\n<img src="grok:a raw cat" alt="">\n\nA page may mention grok:a cat in its text.\n',
    );
    await expect(build({ root: other.root, logLevel: "silent" })).rejects.toMatchObject({
      code: "GROK_UNRESOLVED_IMAGE",
      message: expect.stringMatching(
        /1 image in the build output .* still points.*\n {2}raw\/index\.html: <img src="grok:a raw cat"/,
      ),
    });
  });
});
