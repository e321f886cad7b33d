/*
 * A `grok:` import inside a framework component (Preact, `.tsx`): rendered on the server and hydrated as a
 * `client:load` island, so the same module is bundled for both Astro's server and client environments.
 */
import { access, readFile, writeFile } from "node:fs/promises";
import { build } from "astro";
import type { Browser } from "playwright-core";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { astroCheckLoads, astroEnv, runAstro, runTsc } from "../helpers/astro-cli.js";
import { type AstroEmulator, startAstroEmulator } from "../helpers/astro-emulator.js";
import { imageReferences } from "../helpers/astro-html.js";
import { launchBrowser, requireBrowser } from "../helpers/browser.js";
import { clientChunkReferences, islandUrls } from "../helpers/client-chunks.js";
import { type StaticServer, serveStatic } from "../helpers/static-server.js";
import { type TempProject, tempProject } from "../helpers/temp-project.js";

const browserReady = requireBrowser("a hydrated Preact island shows its `grok:` image");

let api: AstroEmulator;
let project: TempProject;

beforeAll(async () => {
  api = await startAstroEmulator();
  project = await tempProject("astro-framework", { inRepository: true });
  await build({ root: project.root, logLevel: "warn" });
});

afterAll(async () => {
  await api?.close();
  await project?.remove();
});

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

/** Output-relative path of a root-relative URL. */
const distPath = (url: string) => decodeURI(url.replace(/^\//, "").split("?")[0] ?? "");

async function indexHtml(): Promise<string> {
  return readFile(project.resolve("dist", "index.html"), "utf8");
}

describe("`grok:` in a Preact component", () => {
  test("the server-rendered component's images exist and decode at the directive's width", async () => {
    const html = await indexHtml();
    expect(html).not.toMatch(/grok:|@grok-image/);
    const images = imageReferences(html, "index.html");
    // Two copies of the component (server-only and island), each with the default export and `images[0]`.
    expect(images).toHaveLength(4);
    const urls = new Set(images.map((image) => image.url));
    expect(urls.size).toBe(1);
    const [url] = urls;
    expect(url).toMatch(/^\/_astro\/[^/]+\.webp$/);
    const meta = await sharp(await readFile(project.resolve("dist", distPath(url as string)))).metadata();
    expect([meta.format, meta.width]).toEqual(["webp", 240]);
    // The component read `width`, `height`, `alt`, `model` and `index` from the module.
    expect(html).toContain(`width="240" height="${meta.height}" alt="a watercolor fox"`);
    expect(html).toMatch(/<figcaption>grok-imagine\/text-to-image-lite\|0<\/figcaption>/);
  });

  test("the island's client bundle carries the same image and references only files that exist", async () => {
    const html = await indexHtml();
    const entries = islandUrls(html);
    expect(entries.some((url) => /\/_astro\/fox-card\.[\w-]+\.js$/.test(url))).toBe(true);
    for (const url of entries) expect(await exists(project.resolve("dist", distPath(url))), url).toBe(true);

    const references = await clientChunkReferences(project.resolve("dist"), entries);
    const missing: string[] = [];
    for (const reference of references) {
      if (!(await exists(project.resolve("dist", reference.file))))
        missing.push(`${reference.from} -> ${reference.url}`);
    }
    expect(missing).toEqual([]);

    const [htmlImage] = imageReferences(html, "index.html");
    const clientImages = references.filter((r) => /\.(?:webp|avif|png|jpe?g)$/.test(r.file));
    expect(clientImages.map((r) => r.url)).toEqual([htmlImage?.url]);
    expect(clientImages[0]?.from).toMatch(/^_astro\/fox-card\./);
    const component = await readFile(project.resolve("dist", clientImages[0]?.from as string), "utf8");
    expect(component).toContain("a watercolor fox");
    expect(component).not.toMatch(/grok:|\/@fs\/|\.grok-images/);
  });

  test.skipIf(!browserReady)("the hydrated island shows the image in Chromium", async () => {
    let server: StaticServer | undefined;
    let browser: Browser | undefined;
    try {
      server = await serveStatic(project.resolve("dist"));
      browser = await launchBrowser();
      const page = await browser.newPage();
      const failed: string[] = [];
      page.on("requestfailed", (request) => failed.push(request.url()));
      page.on("response", (response) => {
        if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
      });
      await page.goto(`${server.url}/`, { waitUntil: "load" });
      // Set by an effect, which only the island's client bundle runs.
      await page.waitForSelector("#island[data-hydrated]");
      expect(await page.locator("#server[data-hydrated]").count()).toBe(0);
      await page.waitForFunction(() => [...document.images].every((img) => img.complete));
      const widths = await page.evaluate(() => [...document.images].map((img) => img.naturalWidth));
      expect(widths).toEqual([240, 240, 240, 240]);
      expect(failed).toEqual([]);
    } finally {
      await browser?.close();
      await server?.close();
    }
  });

  test("a second build makes no API request and writes the same image", async () => {
    const before = api.requests();
    const firstUrl = imageReferences(await indexHtml(), "index.html")[0]?.url;
    await build({ root: project.root, logLevel: "warn" });
    expect(api.requests() - before).toBe(0);
    expect(api.emulator.counters.submits).toBe(1);
    expect(imageReferences(await indexHtml(), "index.html")[0]?.url).toBe(firstUrl);
  });
});

describe("types of `grok:` in a `.tsx` component", () => {
  test("`tsc` accepts the component with the injected types, and fails without them", async () => {
    const sync = await runAstro(["sync", "--root", project.root], project.root, astroEnv({ CI: "true" }));
    expect(sync.code, sync.output).toBe(0);
    const passing = runTsc(project.root);
    expect(passing.status, passing.stdout + passing.stderr).toBe(0);

    // The same project without `.astro/types.d.ts`, which carries the injected reference.
    await writeFile(
      project.resolve("tsconfig.no-injected.json"),
      JSON.stringify({ extends: "./tsconfig.json", include: ["src/**/*"] }),
    );
    const failing = runTsc(project.root, "tsconfig.no-injected.json");
    expect(failing.status).not.toBe(0);
    expect(failing.stdout).toContain("src/components/fox-card.tsx(");
    expect(failing.stdout).toMatch(/Cannot find module 'grok:a watercolor fox\?w=240'/);
  });

  test.runIf(astroCheckLoads())("`astro check` passes", async () => {
    const result = await runAstro(["check", "--root", project.root], project.root, astroEnv({ CI: "true" }));
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/0 errors/);
  });
});
