import { mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build, preview } from "astro";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type AstroEmulator, startAstroEmulator } from "../helpers/astro-emulator.js";
import { launchBrowser, requireBrowser } from "../helpers/browser.js";
import { type TempProject, tempProject } from "../helpers/temp-project.js";

const SCREENSHOT = fileURLToPath(new URL("../../test-results/astro-site.png", import.meta.url));
const PAGES = ["/", "/gallery/", "/journal/", "/journal/into-the-fog/", "/journal/the-coast/"];
const browserReady = requireBrowser("the demo site loads every image");

type PreviewServer = Awaited<ReturnType<typeof preview>>;
type Page = Awaited<ReturnType<Browser["newPage"]>>;

/** Lazy images load once scrolled into view: bring each one in, then wait until every image has settled. */
async function loadAllImages(page: Page): Promise<number> {
  const images = page.locator("img");
  const count = await images.count();
  for (let i = 0; i < count; i++) await images.nth(i).scrollIntoViewIfNeeded();
  await page.waitForFunction(() => [...document.images].every((img) => img.complete));
  await page.evaluate(() => window.scrollTo(0, 0));
  return count;
}

let api: AstroEmulator;
let project: TempProject;
let server: PreviewServer | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!browserReady) return;
  // Full-size images: the screenshot shows what a new user sees.
  api = await startAstroEmulator({ imageScale: 1 });
  project = await tempProject("examples/astro-site", { inRepository: true });
  await build({ root: project.root, logLevel: "warn" });
  server = await preview({ root: project.root, logLevel: "warn", server: { port: 0, host: "127.0.0.1" } });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await api?.close();
  await project?.remove();
});

describe("the built demo site in Chromium", () => {
  test.skipIf(!browserReady)("every image on every page loads", async () => {
    const context = await (browser as Browser).newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const failed: string[] = [];
    page.on("requestfailed", (request) => failed.push(request.url()));
    page.on("response", (response) => {
      if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
    });
    const origin = `http://127.0.0.1:${(server as PreviewServer).port}`;
    for (const pathname of PAGES) {
      await page.goto(origin + pathname, { waitUntil: "load" });
      const count = await loadAllImages(page);
      const broken = await page.evaluate(() =>
        [...document.images].filter((img) => img.naturalWidth === 0).map((img) => img.currentSrc || img.src),
      );
      expect(broken, `broken images on ${pathname}`).toEqual([]);
      if (pathname !== "/journal/") expect(count, `images on ${pathname}`).toBeGreaterThan(0);
    }
    expect(failed).toEqual([]);

    await page.goto(origin, { waitUntil: "load" });
    await loadAllImages(page);
    await mkdir(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await context.close();
  });
});
