import { readFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import react from "@vitejs/plugin-react";
import type { Emulator } from "maxapi-emulator";
import sharp from "sharp";
import { build, type InlineConfig } from "vite";
import { grokImage } from "vite-plugin-grok-image";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, requireBrowser } from "../helpers/browser.js";
import { captureLogger } from "../helpers/capture-logger.js";
import { type StaticServer, serveStatic } from "../helpers/static-server.js";
import { type TempProject, tempProject } from "../helpers/temp-project.js";
import { grokTestOptions, startTestEmulator } from "../helpers/with-emulator.js";
import { imageFilesWithXmp, unmarked } from "../helpers/xmp-marking.js";

const BROWSER_TEST = "a React page renders the as=picture output";
const browserReady = requireBrowser(BROWSER_TEST);

interface Picture {
  sources: Record<string, string>;
  img: { src: string; width: number; height: number; placeholder?: string };
}
interface Shapes {
  picture: Picture;
  pictures: Picture[];
  pictureAlt: string;
  srcset: string;
  cropped: { src: string; width: number; height: number; placeholder?: string };
  inked: { src: string; prompt: string };
  inkedAlt: string;
}

let emulator: Emulator;
let project: TempProject;
let shapes: Shapes;

function config(extra: InlineConfig): InlineConfig {
  return {
    root: project.root,
    configFile: false,
    logLevel: "silent",
    customLogger: captureLogger(),
    plugins: [react(), grokImage(grokTestOptions(emulator, { styles: { ink: "black ink line drawing" } }))],
    ...extra,
  };
}

beforeAll(async () => {
  emulator = await startTestEmulator();
  project = await tempProject("vite-responsive", { inRepository: true });
  await build(config({ build: { outDir: project.resolve("dist"), emptyOutDir: true } }));
  // The same modules built for Node: their exports are the URLs the client build emitted (same files, same hashes).
  await build(
    config({ build: { ssr: "src/shapes.ts", outDir: project.resolve("dist-ssr"), emptyOutDir: true } }),
  );
  shapes = (await import(pathToFileURL(project.resolve("dist-ssr", "shapes.js")).href)) as Shapes;
});

afterAll(async () => {
  await emulator?.close();
  await project?.remove();
});

/** The file a built URL names, decoded: its format and size. */
async function decode(url: string) {
  const meta = await sharp(await readFile(path.join(project.resolve("dist"), url))).metadata();
  return { format: meta.format === "heif" ? "avif" : meta.format, width: meta.width, height: meta.height };
}

/** `[url, width]` of each srcset candidate. */
function candidates(srcset: string): [string, number][] {
  return srcset.split(", ").map((candidate) => {
    const [url, descriptor] = candidate.split(" ");
    return [url as string, Number(descriptor?.replace(/w$/, ""))];
  });
}

describe("as=picture and as=srcset in a Vite build", () => {
  it("pays for one task per generation: every width and format derives from the one original", () => {
    expect(emulator.counters.submitsByPrompt).toEqual({
      "a red fox in the snow": 1,
      "a lighthouse, black ink line drawing": 1,
    });
    expect(emulator.counters.submits).toBe(2);
  });

  it("as=picture: a srcset per format, in order, with widths above the original's clamped", async () => {
    const { picture } = shapes;
    expect(Object.keys(picture.sources)).toEqual(["avif", "webp"]);
    for (const [format, srcset] of Object.entries(picture.sources)) {
      const list = candidates(srcset);
      // The original is 256 px wide: w=4000 is clamped to it, never upscaled.
      expect(list.map(([, width]) => width)).toEqual([64, 128, 256]);
      for (const [url, width] of list) {
        expect(await decode(url), url).toMatchObject({ format, width });
      }
    }
    expect(picture.img).toMatchObject({ width: 256, height: 256 });
    expect(await decode(picture.img.src)).toMatchObject({ format: "webp", width: 256 });
    expect(picture.img.src).toBe(candidates(picture.sources.webp as string)[2]?.[0]);
    expect(picture.img.placeholder).toMatch(/^#[0-9a-f]{6}$/);
    expect(shapes.pictures).toEqual([picture]);
    expect(shapes.pictureAlt).toBe("A red fox");
  });

  it("as=srcset: one format at every width", async () => {
    const list = candidates(shapes.srcset);
    expect(list.map(([, width]) => width)).toEqual([64, 128]);
    for (const [url, width] of list) expect(await decode(url)).toMatchObject({ format: "jpeg", width });
  });

  it("crops with position=attention and inlines a blur placeholder; style= appends its preset", async () => {
    expect(shapes.cropped).toMatchObject({ width: 96, height: 48 });
    expect(await decode(shapes.cropped.src)).toMatchObject({ format: "webp", width: 96, height: 48 });
    expect(shapes.cropped.placeholder).toMatch(/^data:image\/webp;base64,/);
    expect(shapes.inked.prompt).toBe("a lighthouse, black ink line drawing");
    expect(shapes.inkedAlt).toBe("a lighthouse");
  });

  it("marks every image file of the build as AI-generated (XMP)", async () => {
    const images = await imageFilesWithXmp(project.resolve("dist"));
    expect(new Set(images.map((image) => image.format))).toEqual(new Set(["avif", "webp", "jpeg", "png"]));
    expect(images.length).toBe(3 + 3 + 2 + 1 + 1);
    expect(unmarked(images)).toEqual([]);
  });

  it.skipIf(!browserReady)(BROWSER_TEST, async () => {
    const site: StaticServer = await serveStatic(project.resolve("dist"));
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
      const failed: string[] = [];
      page.on("response", (response) => {
        if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
      });
      await page.goto(`${site.url}/`);
      await page.waitForFunction(() => document.querySelectorAll("img").length === 3);
      await page.waitForFunction(() =>
        [...document.images].every((img) => img.complete && img.naturalWidth > 0),
      );
      const fox = await page.$eval("#fox", (img) => ({
        currentSrc: (img as HTMLImageElement).currentSrc,
        naturalWidth: (img as HTMLImageElement).naturalWidth,
        alt: (img as HTMLImageElement).alt,
        sources: [...(img.parentElement?.querySelectorAll("source") ?? [])].map((s) => s.type),
      }));
      // Chromium decodes AVIF: the first <source> wins, at the width `sizes` asks for (128 CSS px at DPR 1).
      expect(fox.sources).toEqual(["image/avif", "image/webp"]);
      expect(fox.currentSrc).toMatch(/\.avif$/);
      expect(fox.naturalWidth).toBe(128);
      expect(fox.alt).toBe("A red fox");
      const small = await page.$eval("#srcset", (img) => (img as HTMLImageElement).currentSrc);
      expect(small).toMatch(/\.jpg$/);
      expect(failed).toEqual([]);
    } finally {
      await browser.close();
      await site.close();
    }
  });
});
