import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Emulator } from "maxapi-emulator";
import { build } from "vite";
import { grokImage } from "vite-plugin-grok-image";
import { afterAll, beforeAll, expect, it } from "vitest";
import { launchBrowser, requireBrowser } from "../helpers/browser.js";
import { captureLogger } from "../helpers/capture-logger.js";
import { type StaticServer, serveStatic } from "../helpers/static-server.js";
import { grokTestOptions, startTestEmulator } from "../helpers/with-emulator.js";

const TEST_NAME = "the built vite-vanilla example shows every image";
const EXAMPLE = fileURLToPath(new URL("../../examples/vite-vanilla/", import.meta.url));
const SCREENSHOT = fileURLToPath(new URL("../../test-results/vite-vanilla.png", import.meta.url));
const browserReady = requireBrowser(TEST_NAME);

let emulator: Emulator;
let scratch: string;
let site: StaticServer;

beforeAll(async () => {
  if (!browserReady) return;
  emulator = await startTestEmulator();
  // The example is built in place (it is a real project) but writes its output and cache to a scratch dir.
  scratch = await mkdtemp(path.join(os.tmpdir(), "grok-vite-vanilla-"));
  await build({
    root: EXAMPLE,
    configFile: false,
    logLevel: "silent",
    customLogger: captureLogger(),
    plugins: [grokImage(grokTestOptions(emulator, { cacheDir: path.join(scratch, "cache") }))],
    build: { outDir: path.join(scratch, "dist"), emptyOutDir: true },
  });
  site = await serveStatic(path.join(scratch, "dist"));
});

afterAll(async () => {
  await site?.close();
  await emulator?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

it.skipIf(!browserReady)(TEST_NAME, async () => {
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const failed: string[] = [];
    page.on("requestfailed", (request) => failed.push(request.url()));
    page.on("response", (response) => {
      if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
    });
    await page.goto(`${site.url}/`);
    // 1 hero + 3 in the row + 3 foxes + 1 dynamically imported boat.
    await page.waitForFunction(() => document.querySelectorAll("img").length === 8);
    await page.waitForFunction(() => [...document.images].every((img) => img.complete));
    const images = await page.$$eval("img", (imgs) =>
      imgs.map((img) => ({ src: img.currentSrc, alt: img.alt, naturalWidth: img.naturalWidth })),
    );
    for (const image of images) {
      expect(image.naturalWidth, image.src).toBeGreaterThan(0);
      expect(image.alt).not.toBe("");
    }
    expect(failed).toEqual([]);
    await mkdir(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  } finally {
    await browser.close();
  }
});
