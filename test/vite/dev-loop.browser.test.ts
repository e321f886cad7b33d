import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { Emulator } from "maxapi-emulator";
import type { Browser, Page } from "playwright-core";
import { createServer, type ViteDevServer } from "vite";
import { type GrokImageOptions, grokImage } from "vite-plugin-grok-image";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { countNavigations, launchBrowser, requireBrowser } from "../helpers/browser.js";
import { type CapturedLogger, captureLogger } from "../helpers/capture-logger.js";
import { type NodeRun, runNode } from "../helpers/run-node.js";
import { type TempProject, tempProjects } from "../helpers/temp-project.js";
import { grokTestOptions, startTestEmulator, TEST_API_KEY } from "../helpers/with-emulator.js";

/*
 * SPEC section 11, in a real browser against a real Vite dev server: a page whose images miss the cache is served at
 * once with waiting images, and each is swapped in place when its task ends, with no navigation. The emulator's task
 * latency is several seconds, so a page that waited for a task could not pass the first checks.
 */

const TEST_NAME = "vite dev: waiting images are swapped in place";
const CLI = fileURLToPath(new URL("../../packages/vite-plugin/dist/cli/main.js", import.meta.url));
const TASK_LATENCY_MS = 3000;
const browserReady = requireBrowser(TEST_NAME);

let emulator: Emulator;
let browser: Browser;
const projects = tempProjects();
const servers: ViteDevServer[] = [];

async function devServer(project: TempProject, options: GrokImageOptions, logger: CapturedLogger) {
  const server = await createServer({
    root: project.root,
    configFile: false,
    logLevel: "info",
    customLogger: logger,
    plugins: [grokImage(options)],
    server: { port: 0, strictPort: true, host: "127.0.0.1" },
    optimizeDeps: { noDiscovery: true, include: [] },
  });
  servers.push(server);
  await server.listen();
  return { server, origin: server.resolvedUrls?.local[0] ?? "" };
}

/** Every image of the page, as the browser has it now. */
function images(page: Page) {
  return page.$$eval("img", (imgs) =>
    imgs.map((img) => ({
      id: img.id,
      src: img.currentSrc || img.src,
      naturalWidth: img.naturalWidth,
      naturalHeight: img.naturalHeight,
      height: img.height,
      mark: img.dataset.grokImage,
    })),
  );
}

/** Waits until the page shows `count` painted images, none of them a waiting one. */
async function realImages(page: Page, count: number): Promise<void> {
  await page.waitForFunction(
    (expected) => {
      const imgs = [...document.images];
      return (
        imgs.length === expected &&
        imgs.every(
          (img) => img.complete && img.naturalWidth > 0 && !/grok-(generating|waiting|failed)-/.test(img.src),
        )
      );
    },
    count,
    { timeout: 60_000 },
  );
}

beforeAll(async () => {
  if (!browserReady) return;
  emulator = await startTestEmulator({ latencyMs: TASK_LATENCY_MS });
  browser = await launchBrowser();
});

afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
  await projects.removeAll();
});

afterAll(async () => {
  await browser?.close();
  await emulator?.close();
});

describe.skipIf(!browserReady)("vite dev: the page never waits for a generation", () => {
  it("serves waiting images at once and swaps each for its image in place when the task ends", async () => {
    emulator.configure({ latencyMs: TASK_LATENCY_MS });
    const project = await projects.copy("vite-dev-loop");
    const logger = captureLogger();
    const { server, origin } = await devServer(project, grokTestOptions(emulator), logger);
    // The workbench's address is printed with Vite's own.
    server.printUrls();
    expect(logger.infos.join("\n")).toContain(`grok-image workbench: ${origin}__grok-image/`);
    const page = await browser.newPage();
    const navigations = countNavigations(page);
    try {
      await page.goto(origin);
      // 1 picked boat + 3 takes + the forest + the lighthouse, every one painted while no task has ended.
      await page.waitForFunction(
        () =>
          document.images.length === 6 &&
          [...document.images].every((img) => img.complete && img.naturalWidth > 0),
      );
      expect(emulator.counters.downloads).toBe(0);
      const waiting = await images(page);
      for (const image of waiting) {
        expect(image.src, image.id).toMatch(/grok-generating-/);
        expect(image.mark, image.id).toBe("generating");
      }
      // The waiting forest already has the shape the directive asks for (16:9 at 320 wide).
      const forest = waiting.find((image) => image.id === "forest");
      expect(forest && forest.naturalWidth / forest.naturalHeight).toBeCloseTo(16 / 9, 1);

      // State the page holds, which a reload would lose.
      await page.evaluate(() => {
        (window as { kept?: string }).kept = "still here";
        window.scrollTo(0, 300);
      });
      await realImages(page, 6);
      expect(await page.evaluate(() => (window as { kept?: string }).kept)).toBe("still here");
      expect(await page.evaluate(() => window.scrollY)).toBe(300);
      expect(navigations()).toBe(1);
      const swapped = await images(page);
      for (const image of swapped) {
        expect(image.src, image.id).toMatch(/\/@fs\/.*\/variants\//);
        expect(image.mark, image.id).toBeUndefined();
      }
      const realForest = swapped.find((image) => image.id === "forest");
      expect(realForest && realForest.naturalWidth / realForest.naturalHeight).toBeCloseTo(16 / 9, 1);
      // Each generation was paid once, whatever number of images showed it.
      expect(emulator.counters.submits).toBe(3);

      // A later navigation gets the real images straight away (the modules were invalidated).
      await page.reload();
      await page.waitForFunction(() => document.images.length === 6);
      for (const image of await images(page)) expect(image.src, image.id).not.toMatch(/grok-generating-/);
      expect(emulator.counters.submits).toBe(3);
    } finally {
      await page.close();
    }
  });

  it("swaps every width and format of as=srcset and as=picture in place, each for its own output", async () => {
    emulator.configure({ latencyMs: TASK_LATENCY_MS });
    const project = await projects.copy("vite-dev-loop");
    // The emulator's lite images are 256 px square: the 512 px candidate is clamped to 256 once generated.
    await writeFile(
      project.resolve("src", "main.ts"),
      `import lemonade from "grok:a glass of lemonade?w=64;128;512&as=srcset";
import tram from "grok:an old tram at night?w=64;128&format=avif;webp&as=picture";

const app = document.querySelector("#app") as HTMLElement;
const img = document.createElement("img");
img.id = "lemonade";
img.srcset = lemonade;
img.sizes = "128px";
img.alt = "lemonade";
app.append(img);
const picture = document.createElement("picture");
for (const [format, srcset] of Object.entries(tram.sources)) {
  const source = document.createElement("source");
  source.type = \`image/\${format}\`;
  source.srcset = srcset;
  source.sizes = "64px";
  picture.append(source);
}
const fallback = document.createElement("img");
fallback.id = "tram";
fallback.src = tram.img.src;
fallback.width = tram.img.width;
fallback.height = tram.img.height;
fallback.alt = "tram";
picture.append(fallback);
app.append(picture);
`,
    );
    const { submits, downloads } = emulator.counters;
    const { origin } = await devServer(project, grokTestOptions(emulator), captureLogger());
    const page = await browser.newPage();
    const navigations = countNavigations(page);
    /** Every srcset on the page as `[url, descriptor]` candidates, with the `<source>` type or the `<img>` id. */
    const srcsets = () =>
      page.$$eval("img[srcset], source", (elements) =>
        elements.map((element) => ({
          of: element instanceof HTMLImageElement ? element.id : (element.getAttribute("type") ?? ""),
          candidates: (element.getAttribute("srcset") ?? "")
            .split(",")
            .map((candidate) => candidate.trim().split(/\s+/) as [string, string]),
        })),
      );
    const painted = (pattern: string) =>
      page.waitForFunction(
        (source) =>
          document.images.length === 2 &&
          [...document.images].every(
            (img) => img.complete && img.naturalWidth > 0 && new RegExp(source).test(img.currentSrc),
          ),
        pattern,
        { timeout: 60_000 },
      );
    try {
      await page.goto(origin);
      await painted("grok-generating-");
      expect(emulator.counters.downloads).toBe(downloads);
      const waiting = await srcsets();
      // One waiting file per width and format, each of its own size: every candidate can be swapped for its own.
      expect(waiting.map((s) => [s.of, s.candidates.map(([, width]) => width)])).toEqual([
        ["lemonade", ["64w", "128w", "512w"]],
        ["image/avif", ["64w", "128w"]],
        ["image/webp", ["64w", "128w"]],
      ]);
      const urls = waiting.flatMap((s) => s.candidates.map(([url]) => url));
      expect(new Set(urls.map((url) => /grok-generating-[0-9a-f]+-0/.exec(url)?.[0])).size).toBe(7);
      expect(urls.filter((url) => url.endsWith(".avif"))).toHaveLength(2);

      await page.evaluate(() => window.scrollTo(0, 300));
      await painted("/variants/");
      const swapped = await srcsets();
      // Each candidate is the real output of its width and format; the clamped one says its true width.
      expect(swapped.map((s) => [s.of, s.candidates.map(([, width]) => width)])).toEqual([
        ["lemonade", ["64w", "128w", "256w"]],
        ["image/avif", ["64w", "128w"]],
        ["image/webp", ["64w", "128w"]],
      ]);
      for (const { of, candidates } of swapped) {
        const extension = of === "image/avif" ? ".avif" : ".webp";
        for (const [url] of candidates)
          expect(url, of).toMatch(new RegExp(`/@fs/.*/variants/[0-9a-f]+\\${extension}$`));
        expect(new Set(candidates.map(([url]) => url)).size, of).toBe(candidates.length);
      }
      const tram = await page.$eval("#tram", (img) => (img as HTMLImageElement).currentSrc);
      expect(tram).toMatch(/\/variants\/[0-9a-f]+\.avif$/);
      expect(await page.evaluate(() => window.scrollY)).toBe(300);
      expect(navigations()).toBe(1);
      expect(emulator.counters.submits).toBe(submits + 2);
    } finally {
      await page.close();
    }
  });

  it("swaps waiting images when `grok-image generate` fills the cache from another process", async () => {
    emulator.configure({ latencyMs: 300 });
    const project = await projects.copy("vite-dev-loop");
    // No key, so the dev server generates nothing itself: it shows waiting images.
    const { origin } = await devServer(
      project,
      { baseUrl: emulator.url, mode: "placeholder", concurrency: 4 },
      captureLogger(),
    );
    const page = await browser.newPage();
    const navigations = countNavigations(page);
    try {
      await page.goto(origin);
      await page.waitForFunction(
        () =>
          document.images.length === 6 &&
          [...document.images].every((img) => img.complete && /grok-waiting-/.test(img.src)),
      );
      const submits = emulator.counters.submits;
      const cli = await runCli(["generate", project.root], {
        MAXAPI_KEY: TEST_API_KEY,
        MAXAPI_BASE_URL: emulator.url,
        GROK_IMAGE_MODE: "generate",
      });
      expect(cli.code, cli.output).toBe(0);
      expect(emulator.counters.submits).toBe(submits + 3);
      await realImages(page, 6);
      expect(navigations()).toBe(1);
    } finally {
      await page.close();
    }
  });

  it("shows a bad directive in Vite's overlay with its file, line, column, code frame, code and hint", async () => {
    emulator.configure({ latencyMs: 300 });
    const project = await projects.copy("vite-dev-loop");
    const { origin } = await devServer(project, grokTestOptions(emulator), captureLogger());
    const page = await browser.newPage();
    try {
      await page.goto(origin);
      await page.waitForFunction(() => document.images.length === 6);
      const main = project.resolve("src", "main.ts");
      const source = await readFile(main, "utf8");
      await writeFile(main, `${source}\nimport bad from "grok:a red kite?tier=ultra";\nconsole.log(bad);\n`);
      const overlay = page.locator("vite-error-overlay");
      await overlay.waitFor({ timeout: 30_000 });
      const text = await overlay.evaluate((element) => element.shadowRoot?.textContent ?? "");
      const line = source.split("\n").length + 1;
      expect(text).toContain("GROK_BAD_DIRECTIVE");
      expect(text).toContain(`src/main.ts:${line}:18`);
      expect(text).toContain(`> ${line} | import bad from "grok:a red kite?tier=ultra";`);
      expect(text).toContain("Accepted values: lite, standard, pro");
      expect(text).toContain("hint: Use one of the accepted values");
    } finally {
      await page.close();
    }
  });
});

function runCli(args: readonly string[], env: Record<string, string>): Promise<NodeRun> {
  return runNode([CLI, ...args], { env: { ...process.env, CI: "", ...env } });
}
