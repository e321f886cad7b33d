import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Frame, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type AstroDevServer, startAstroDev } from "../helpers/astro-cli.js";
import { type AstroEmulator, startAstroEmulator } from "../helpers/astro-emulator.js";
import { countNavigations, launchBrowser, requireBrowser } from "../helpers/browser.js";
import { type TempProject, tempProject } from "../helpers/temp-project.js";

/*
 * SPEC section 11 in a real `astro dev`, in a real browser, with tasks that take seconds: pages are served at once
 * with waiting images; `<Image>`, `<Picture>` (every source), `getImage()` and Markdown images are swapped in place
 * when the tasks end, with no navigation; the Dev Toolbar app lists the page's directives; a bad directive shows in
 * Astro's overlay with its place, its code frame, its code and its hint.
 */

const TEST_NAME = "astro dev: waiting images are swapped in place";
const TASK_LATENCY_MS = 3000;
const TOOLBAR_SCREENSHOT = fileURLToPath(
  new URL("../../test-results/astro-toolbar-workbench.png", import.meta.url),
);
const browserReady = requireBrowser(TEST_NAME);

let api: AstroEmulator;
let project: TempProject;
let server: AstroDevServer;
let browser: Browser;

const WAITING = /grok-(generating|waiting|failed)-/;

/** Every image URL of the page (img src, img and source srcset), decoded: Astro puts the file in `/_image?href=`. */
function imageUrls(page: Page): Promise<string[]> {
  return page.$$eval("img, source", (elements) =>
    elements.flatMap((element) =>
      ["src", "srcset"].flatMap((attribute) => {
        const value = element.getAttribute(attribute);
        return value ? [decodeURIComponent(value)] : [];
      }),
    ),
  );
}

/** Waits until `count` images are painted, and says whether any still shows a waiting image. */
async function painted(page: Page, count: number): Promise<void> {
  await page.waitForFunction(
    (expected) =>
      document.images.length === expected &&
      [...document.images].every((img) => img.complete && img.naturalWidth > 0),
    count,
    { timeout: 30_000, polling: 100 },
  );
}

/** Waits until no image or source of the page points at a waiting image, and every image is painted. */
async function swapped(page: Page): Promise<void> {
  await page.waitForFunction(
    () =>
      [...document.querySelectorAll("img, source")].every(
        (element) =>
          !/grok-(generating|waiting|failed)-/.test(
            `${element.getAttribute("src") ?? ""} ${element.getAttribute("srcset") ?? ""}`,
          ),
      ) && [...document.images].every((img) => img.complete && img.naturalWidth > 0),
    null,
    { timeout: 60_000, polling: 100 },
  );
}

beforeAll(async () => {
  if (!browserReady) return;
  api = await startAstroEmulator({ latencyMs: TASK_LATENCY_MS });
  project = await tempProject("astro-basic", { inRepository: true });
  server = await startAstroDev(project.root);
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await api?.close();
  await project?.remove();
});

describe.skipIf(!browserReady)("astro dev: the page never waits for a generation", () => {
  it("prints the workbench's address with Astro's", () => {
    const port = new URL(server.url).port;
    expect(server.output()).toContain(`workbench: http://localhost:${port}/__grok-image/`);
  });

  it("swaps <Image>, every <Picture> source and getImage() in place when the task ends", async () => {
    const page = await browser.newPage();
    const navigations = countNavigations(page);
    try {
      await page.goto(`${server.url}/`);
      // #fixed (<Image>), #picture (<Picture>'s <img>), #og (getImage) and #raw, painted while no task has ended.
      await painted(page, 4);
      expect(api.emulator.counters.downloads).toBe(0);
      const waiting = await imageUrls(page);
      expect(waiting.length).toBeGreaterThanOrEqual(6);
      for (const url of waiting) expect(url).toMatch(WAITING);
      expect(await page.$eval("#fixed", (img) => img.getAttribute("data-grok-image"))).toBe("generating");

      await page.evaluate(() => {
        (window as { kept?: string }).kept = "still here";
      });
      await swapped(page);
      expect(await page.evaluate(() => (window as { kept?: string }).kept)).toBe("still here");
      expect(navigations()).toBe(1);
      const real = await imageUrls(page);
      for (const url of real) expect(url).toMatch(/\/\.grok-images\/variants\//);
      // Both <Picture> sources (avif and webp) were rewritten, each keeping its own format and widths.
      const sources = await page.$$eval("#picture", (imgs) =>
        [...(imgs[0]?.parentElement?.querySelectorAll("source") ?? [])].map((s) => s.getAttribute("type")),
      );
      expect(sources).toEqual(["image/avif", "image/webp"]);
      // A later navigation renders the real image on the server.
      await page.reload();
      await painted(page, 4);
      for (const url of await imageUrls(page)) expect(url).not.toMatch(WAITING);
    } finally {
      await page.close();
    }
  });

  it("swaps Markdown images in place, and the toolbar app lists the page's directives", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const navigations = countNavigations(page);
    try {
      await page.goto(`${server.url}/post/`);
      await painted(page, 4);
      // The lighthouse (twice) and the desert road wait; the spaced forest shares the home page's generation.
      const waiting = (await imageUrls(page)).filter((url) => WAITING.test(url));
      expect(waiting.length).toBeGreaterThanOrEqual(3);
      await swapped(page);
      expect(navigations()).toBe(1);

      await page.locator('astro-dev-toolbar [data-app-id="astro-grok-image"]').first().click();
      const frame = await workbenchFrame(page);
      const onPage = frame.locator('section[data-section="This page"] article.directive');
      await onPage.nth(3).waitFor({ timeout: 30_000 });
      const texts = await onPage.allTextContents();
      // The lighthouse is written twice, the desert road and the spaced forest once each.
      expect(texts.length).toBe(4);
      expect(texts.join("\n")).toContain("a lighthouse at night");
      expect(texts.join("\n")).toContain("a desert road");
      expect(texts.join("\n")).toContain("src/pages/post.md");
      for (const text of texts) expect(text.trim()).toMatch(/^cached/);
      // The site's section lists the other pages' directives too.
      const site = await frame.locator('section[data-section="Site"] article.directive').allTextContents();
      expect(site.join("\n")).toContain("src/pages/index.astro");
      expect(site.join("\n")).toContain("src/pages/mdx-post.mdx");
      // The takes of this page's directives, in view (the site's further down load lazily).
      await frame.waitForFunction(
        () =>
          [
            ...document.querySelectorAll<HTMLImageElement>('section[data-section="This page"] .take img'),
          ].every((img) => img.complete && img.naturalWidth > 0),
        null,
        { polling: 100 },
      );
      await mkdir(path.dirname(TOOLBAR_SCREENSHOT), { recursive: true });
      await page.screenshot({ path: TOOLBAR_SCREENSHOT });
    } finally {
      await page.close();
    }
  });

  it("rerolls a Markdown directive written with literal spaces from the toolbar app: spaces kept, one new task", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const post = project.resolve("src", "pages", "post.md");
    try {
      await page.goto(`${server.url}/post/`);
      await swapped(page);
      const submits = api.emulator.counters.submits;
      await page.locator('astro-dev-toolbar [data-app-id="astro-grok-image"]').first().click();
      const frame = await workbenchFrame(page);
      // Shown as the file holds it, not as the bundler receives it (%20).
      const forest = frame
        .locator('section[data-section="This page"] article.directive')
        .filter({ has: frame.locator(".raw", { hasText: "grok:a misty forest at dawn?w=120" }) });
      await forest.waitFor({ timeout: 30_000 });
      let asked = "";
      page.once("dialog", (dialog) => {
        asked = dialog.message();
        void dialog.accept();
      });
      await forest.locator("button", { hasText: "Reroll" }).click();
      // The edit makes Astro render the post again (the toolbar's frame goes with the old page): the file tells.
      await vi.waitFor(
        async () =>
          expect(await readFile(post, "utf8")).toContain(
            "![a spaced alt](grok:a misty forest at dawn?w=120&v=2) inline.",
          ),
        { timeout: 30_000, interval: 100 },
      );
      expect(asked).toContain("$");
      // Astro renders the edited post again; its new take is generated once and swapped in.
      await page.waitForFunction(
        () => [...document.images].some((img) => /grok-generating-/.test(decodeURIComponent(img.src))),
        null,
        { timeout: 30_000, polling: 100 },
      );
      await swapped(page);
      expect(api.emulator.counters.submits).toBe(submits + 1);
      expect(api.emulator.counters.submitsByPrompt["a misty forest at dawn"]).toBe(2);
    } finally {
      await page.close();
    }
  });

  it("shows a bad directive in Astro's overlay with its place, code frame, code and hint", async () => {
    await writeFile(
      project.resolve("src", "pages", "bad.astro"),
      '---\nimport kite from "grok:a red kite?tier=ultra";\n---\n<img src={kite.src} alt="" />\n',
    );
    const page = await browser.newPage();
    try {
      await page.goto(`${server.url}/bad/`);
      const shown = await overlayText(page);
      expect(shown.title).toBe("Invalid grok: directive");
      expect(shown.message).toContain("GROK_BAD_DIRECTIVE");
      expect(shown.message).toContain('tier="ultra" is not accepted');
      expect(shown.hint).toContain("Use one of the accepted values");
      expect(shown.file).toBe("pages/bad.astro:2:19");
      expect(shown.code).toContain('import kite from "grok:a red kite?tier=ultra";');
    } finally {
      await page.close();
    }
  });
});

describe.skipIf(!browserReady)("astro dev: a Markdown directive with literal spaces", () => {
  it("shows its error in Astro's overlay as it is written, at its place", async () => {
    await writeFile(
      project.resolve("src", "pages", "bad-post.md"),
      "# A post\n\nSee ![a kite](grok:a red kite over the dunes?tier=ultra) here.\n",
    );
    const page = await browser.newPage();
    try {
      await page.goto(`${server.url}/bad-post/`);
      const shown = await overlayText(page);
      expect(shown.message).toContain("GROK_BAD_DIRECTIVE");
      expect(shown.message).toContain("grok:a red kite over the dunes?tier=ultra");
      expect(shown.message).not.toContain("%20");
      expect(shown.file).toBe("pages/bad-post.md:3:15");
      expect(shown.code).toContain("See ![a kite](grok:a red kite over the dunes?tier=ultra) here.");
    } finally {
      await page.close();
    }
  });
});

/** What Astro's error overlay shows, box by box, once it is there. */
async function overlayText(page: Page) {
  const overlay = page.locator("vite-error-overlay");
  await overlay.waitFor({ state: "attached", timeout: 30_000 });
  return overlay.evaluate((element) => {
    const root = element.shadowRoot;
    const text = (selector: string) => root?.querySelector(selector)?.textContent ?? "";
    return {
      title: text("#title"),
      message: text("#message-content"),
      hint: text("#hint-content"),
      file: text("#code header h2"),
      code: text("#code-content"),
    };
  });
}

/** The workbench the toolbar app frames over the page. */
async function workbenchFrame(page: Page): Promise<Frame> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const frame = page.frames().find((f) => f.url().includes("/__grok-image/?embed=toolbar"));
    if (frame) return frame;
    if (Date.now() > deadline) throw new Error("the toolbar app did not open the workbench");
    await page.waitForTimeout(100);
  }
}
