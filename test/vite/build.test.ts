import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { Emulator } from "maxapi-emulator";
import sharp from "sharp";
import { build, type InlineConfig } from "vite";
import { grokImage } from "vite-plugin-grok-image";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureLogger } from "../helpers/capture-logger.js";
import { hashFiles, listFiles, referencedImageUrls } from "../helpers/dist-files.js";
import { type TempProject, tempProject } from "../helpers/temp-project.js";
import { grokTestOptions, startTestEmulator } from "../helpers/with-emulator.js";

let emulator: Emulator;
let project: TempProject;
const logger = captureLogger();

function config(outDir: string, extra: InlineConfig = {}): InlineConfig {
  return {
    root: project.root,
    configFile: false,
    logLevel: "silent",
    customLogger: logger,
    plugins: [grokImage(grokTestOptions(emulator))],
    ...extra,
    build: { outDir, emptyOutDir: true, ...extra.build },
  };
}

interface Entry {
  prompt: string;
  originals: { width: number; height: number }[];
}

async function readManifest(): Promise<Entry[]> {
  const manifest = JSON.parse(await readFile(project.resolve(".grok-images", "manifest.json"), "utf8"));
  return Object.values(manifest) as Entry[];
}

const imagesIn = async (dir: string) =>
  (await listFiles(dir)).filter((f) => /\.(?:webp|png|jpg|avif)$/.test(f));

beforeAll(async () => {
  emulator = await startTestEmulator();
  project = await tempProject("vite-basic");
  await build(config(project.resolve("dist")));
});

afterAll(async () => {
  await emulator?.close();
  await project?.remove();
});

describe("vite build", () => {
  it("generates each distinct generation once, as one batch", () => {
    // forest (two spellings, one generation), the kites (n=2), the dynamically imported lighthouse.
    expect(emulator.counters.submits).toBe(3);
    expect(emulator.counters.submitsByPrompt).toEqual({
      "a misty forest at dawn": 1,
      "two red kites over a hill": 1,
      "a lighthouse in a storm": 1,
    });
    const summary = logger.infos.find((line) => line.includes("3 generated"));
    expect(summary, logger.infos.join("\n")).toContain("0 failed");
  });

  it("emits every variant at its requested size and format, identical variants once", async () => {
    const dist = project.resolve("dist");
    const images = await imagesIn(dist);
    const meta = await Promise.all(images.map((f) => sharp(path.join(dist, f)).metadata()));
    const shapes = meta.map((m) => `${m.format} ${m.width}x${m.height}`).sort();
    // Only w=200 was asked for the forest: the height keeps the original's aspect ratio.
    const forest = (await readManifest()).find((e) => e.prompt === "a misty forest at dawn")?.originals[0];
    const forestHeight = Math.round((200 * (forest?.height ?? 0)) / (forest?.width ?? 1));
    expect(shapes).toEqual(["jpeg 160x90", "png 120x90", "png 120x90", `webp 200x${forestHeight}`]);
    expect(images.every((f) => f.startsWith("assets/"))).toBe(true);
  });

  it("references only files that exist in the output", async () => {
    const dist = project.resolve("dist");
    const urls = await referencedImageUrls(dist);
    expect(urls).toHaveLength(4);
    const files = new Set(await listFiles(dist));
    for (const url of urls) expect(files, url).toContain(url.replace(/^\//, ""));
  });

  it("writes the manifest and the originals to the cache", async () => {
    const cache = project.resolve(".grok-images");
    const entries = await readManifest();
    expect(entries.map((e) => [e.prompt, e.originals.length]).sort()).toEqual([
      ["a lighthouse in a storm", 1],
      ["a misty forest at dawn", 1],
      ["two red kites over a hill", 2],
    ]);
    expect(await readdir(path.join(cache, "originals"))).toHaveLength(4);
  });

  it("rebuilds from the cache with zero API requests and byte-identical output", async () => {
    const before = { ...emulator.counters };
    await build(config(project.resolve("dist-again")));
    expect(emulator.counters.submits).toBe(before.submits);
    expect(emulator.counters.queries).toBe(before.queries);
    expect(emulator.counters.downloads).toBe(before.downloads);
    expect(await hashFiles(project.resolve("dist-again"))).toEqual(await hashFiles(project.resolve("dist")));
  });

  it("honours base and build.assetsDir", async () => {
    const dist = project.resolve("dist-base");
    await build(config(dist, { base: "/sub/", build: { assetsDir: "static/media" } }));
    const images = await imagesIn(dist);
    expect(images).toHaveLength(4);
    expect(images.every((f) => f.startsWith("static/media/"))).toBe(true);
    const urls = await referencedImageUrls(dist);
    const imageUrls = urls.filter((u) => !u.endsWith(".js"));
    expect(imageUrls).toHaveLength(4);
    for (const url of imageUrls) {
      expect(url).toMatch(/^\/sub\/static\/media\//);
      expect(images).toContain(url.slice("/sub/".length));
    }
  });
});
