import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Emulator } from "maxapi-emulator";
import type { Browser, Page } from "playwright-core";
import { createServer, type ViteDevServer } from "vite";
import { grokImage } from "vite-plugin-grok-image";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { launchBrowser, requireBrowser } from "../helpers/browser.js";
import { captureLogger } from "../helpers/capture-logger.js";
import { type TempProject, tempProject } from "../helpers/temp-project.js";
import { grokTestOptions, startTestEmulator } from "../helpers/with-emulator.js";

/*
 * The workbench (SPEC section 11) in a real browser against a real Vite dev server: it lists the project's
 * directives with their status, cost and takes; "use this take" and "reroll" edit only that directive in its file;
 * "retry" generates a failed one again; a stale file, a request without the token and one from another origin are
 * refused. A screenshot of it is kept in test-results/.
 */

const TEST_NAME = "the workbench lists, picks, rerolls and retries";
const SCREENSHOT = fileURLToPath(new URL("../../test-results/workbench.png", import.meta.url));
const browserReady = requireBrowser(TEST_NAME);

let emulator: Emulator;
let browser: Browser;
let project: TempProject;
let server: ViteDevServer;
let origin: string;
let app: Page;
let workbench: Page;
let main: string;

interface Row {
  readonly raw: string;
  readonly state: string;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly takes: readonly string[];
  readonly costUsd: number;
  readonly key: string;
  readonly error?: { code: string; hint?: string };
}

async function state(): Promise<Row[]> {
  const response = await fetch(new URL("/__grok-image/state", origin));
  return ((await response.json()) as { directives: Row[] }).directives;
}

async function row(prompt: string): Promise<Row> {
  const found = (await state()).find((d) => d.raw.includes(prompt));
  if (!found) throw new Error(`no directive for ${prompt}`);
  return found;
}

/** A POST from the workbench page itself (same origin), with or without its token. */
function post(route: string, body: unknown, withToken = true) {
  return workbench.evaluate(
    async ({ route, body, withToken }) => {
      const token = document.querySelector<HTMLMetaElement>('meta[name="grok-image-token"]')?.content ?? "";
      const response = await fetch(`/__grok-image/${route}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(withToken ? { "x-grok-image-token": token } : {}),
        },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as { error?: string; raw?: string } };
    },
    { route, body, withToken },
  );
}

/**
 * Waits until the app page shows every image, none a waiting one (except failed ones when allowed). Polled on a
 * timer: the app page is in the background while the workbench is used, where animation frames are throttled.
 */
async function settled(page: Page, allowFailed = false): Promise<void> {
  await page.waitForFunction(
    (allow) => {
      const imgs = [...document.images];
      return (
        imgs.length === 6 &&
        imgs.every(
          (img) =>
            img.complete &&
            img.naturalWidth > 0 &&
            (!/grok-(generating|waiting|failed)-/.test(img.src) ||
              (allow && img.dataset.grokImage === "failed")),
        )
      );
    },
    allowFailed,
    { timeout: 60_000, polling: 200 },
  );
}

const card = (prompt: string) => workbench.locator("article.directive", { hasText: prompt }).first();

beforeAll(async () => {
  if (!browserReady) return;
  emulator = await startTestEmulator({ latencyMs: 300 });
  // The lighthouse fails once (moderation after submit): its retry succeeds.
  emulator.inject({
    phase: "submit",
    prompt: "lighthouse",
    times: 1,
    fault: { type: "outcome", status: "FAILURE", failureReason: "CONTENT_MODERATION" },
  });
  project = await tempProject("vite-dev-loop");
  main = project.resolve("src", "main.ts");
  server = await createServer({
    root: project.root,
    configFile: false,
    logLevel: "silent",
    customLogger: captureLogger(),
    plugins: [grokImage(grokTestOptions(emulator))],
    server: { port: 0, strictPort: true, host: "127.0.0.1" },
    optimizeDeps: { noDiscovery: true, include: [] },
  });
  await server.listen();
  origin = server.resolvedUrls?.local[0] ?? "";
  browser = await launchBrowser();
  app = await browser.newPage();
  workbench = await browser.newPage({ viewport: { width: 1200, height: 900 } });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await emulator?.close();
  await project?.remove();
});

describe.skipIf(!browserReady)("the workbench", () => {
  it("lists every directive with its status, cost and all its takes side by side", async () => {
    await app.goto(origin);
    await settled(app, true);
    await app.waitForFunction(
      () => document.querySelector("#lighthouse")?.getAttribute("data-grok-image") === "failed",
      null,
      { polling: 200 },
    );

    await workbench.goto(new URL("/__grok-image/", origin).href);
    const boats = card("a paper boat on a pond");
    await boats.locator(".take img").nth(2).waitFor();
    expect(await boats.locator(".badge").textContent()).toBe("cached");
    expect(await boats.locator(".take img").count()).toBe(3);
    const { line, column } = await row("a paper boat on a pond");
    expect(await boats.textContent()).toContain(`src/main.ts:${line}:${column}`);
    expect(await boats.textContent()).toContain("$0.003 per generation");
    expect(await boats.locator("button", { hasText: "Use this take" }).count()).toBe(2);
    const lighthouse = card("a lighthouse in a storm");
    await lighthouse.locator(".badge", { hasText: "failed" }).waitFor();
    const problem = await lighthouse.locator(".problem").textContent();
    expect(problem).toContain("GROK_MODERATION");
    expect(problem).toContain("What to do:");
    expect(await lighthouse.locator("button", { hasText: "Retry" }).count()).toBe(1);
    expect(await card("a misty forest at dawn").locator(".badge").textContent()).toBe("cached");
    expect(await workbench.locator("#summary").textContent()).toMatch(
      /dev budget: \$0\.\d+ spent of \$1\.00/,
    );

    // Both take images are painted: that is what the screenshot must show.
    await workbench.waitForFunction(() =>
      [...document.querySelectorAll<HTMLImageElement>(".take img")].every(
        (img) => img.complete && img.naturalWidth > 0,
      ),
    );
    await mkdir(path.dirname(SCREENSHOT), { recursive: true });
    await workbench.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it("refuses a request without the token, from another origin, or for a file that changed", async () => {
    const boats = await row("a paper boat on a pond");
    const originalLine = boats.line;
    const at = { file: boats.file, line: boats.line, column: boats.column, raw: boats.raw };
    const withoutToken = await post("pick", { ...at, pick: 2 }, false);
    expect(withoutToken.status).toBe(403);
    expect(withoutToken.body.error).toContain("token");

    const token = await workbench.evaluate(
      () => document.querySelector<HTMLMetaElement>('meta[name="grok-image-token"]')?.content ?? "",
    );
    const crossSite = await fetch(new URL("/__grok-image/pick", origin), {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-grok-image-token": token,
        origin: "http://evil.example",
        "sec-fetch-site": "cross-site",
      },
      body: JSON.stringify({ ...at, pick: 2 }),
    });
    expect(crossSite.status).toBe(403);
    const otherPort = await fetch(new URL("/__grok-image/state", origin), {
      headers: { origin: "http://127.0.0.1:1", "sec-fetch-site": "same-site" },
    });
    expect(otherPort.status).toBe(403);
    // The workbench never edits a file the project scan does not know.
    const outside = await post("pick", { ...at, file: project.resolve("index.html"), pick: 2 });
    expect(outside.status).toBe(403);

    // The directive moves one line down: the workbench's old view of it is stale.
    await writeFile(main, `// edited by hand\n${await readFile(main, "utf8")}`);
    const stale = await post("pick", { ...at, pick: 2 });
    expect(stale.status).toBe(409);
    expect(stale.body.error).toContain("no longer holds");
    await vi.waitFor(async () => expect((await row("a paper boat on a pond")).line).toBe(originalLine + 1));
    expect(await readFile(main, "utf8")).not.toContain("pick=");
    expect(emulator.counters.submits).toBe(3);
  });

  it("uses a take by writing pick=k into the directive, and the page shows that take with no new task", async () => {
    const submits = emulator.counters.submits;
    const boats = card("a paper boat on a pond");
    // The workbench has read the file again: the directive is one line further down now.
    const { line } = await row("a paper boat on a pond");
    await boats.locator(".where", { hasText: `src/main.ts:${line}:` }).waitFor();
    await boats.locator('button[data-k="3"]').click();
    await workbench.locator("#notice", { hasText: "Take 3 is used" }).waitFor();
    const source = await readFile(main, "utf8");
    expect(source).toContain(
      'import boat, { images as boats } from "grok:a paper boat on a pond?n=3&w=160&pick=3";',
    );
    expect(source.startsWith("// edited by hand\n")).toBe(true);

    // Vite reloads the page for the edit; the default export is now the third take.
    await app.waitForFunction(
      () => {
        const boat = document.querySelector<HTMLImageElement>("#boat");
        const third = document.querySelector<HTMLImageElement>("#take-3");
        return (
          !!boat && !!third && boat.src === third.src && !/grok-(generating|waiting|failed)-/.test(boat.src)
        );
      },
      null,
      { timeout: 30_000, polling: 200 },
    );
    await settled(app, true);
    expect(emulator.counters.submits).toBe(submits);
  });

  it("rerolls with a new v after showing its cost: exactly one new task", async () => {
    const submits = emulator.counters.submits;
    const boats = card("a paper boat on a pond");
    await boats.locator(".raw", { hasText: "pick=3" }).waitFor();
    const before = await app.$eval("#take-1", (img) => (img as HTMLImageElement).src);
    let asked = "";
    workbench.once("dialog", (dialog) => {
      asked = dialog.message();
      void dialog.accept();
    });
    await boats.locator("button", { hasText: "Reroll" }).click();
    await workbench.locator("#notice", { hasText: "Rerolled" }).waitFor();
    expect(asked).toContain("about $0.003");
    expect(await readFile(main, "utf8")).toContain('from "grok:a paper boat on a pond?n=3&w=160&v=2";');

    await app.waitForFunction(
      (old) => {
        const first = document.querySelector<HTMLImageElement>("#take-1");
        return (
          !!first &&
          first.src !== old &&
          !/grok-(generating|waiting|failed)-/.test(first.src) &&
          first.complete &&
          first.naturalWidth > 0
        );
      },
      before,
      { timeout: 60_000, polling: 200 },
    );
    await settled(app, true);
    expect(emulator.counters.submits).toBe(submits + 1);
    expect(emulator.counters.submitsByPrompt["a paper boat on a pond"]).toBe(2);
    await card("a paper boat on a pond").locator(".raw", { hasText: "v=2" }).waitFor();
  });

  it("retries a failed directive, and the open page swaps it in place", async () => {
    const submits = emulator.counters.submits;
    await app.evaluate(() => {
      (window as { kept?: boolean }).kept = true;
    });
    await card("a lighthouse in a storm").locator("button", { hasText: "Retry" }).click();
    await workbench.locator("#notice", { hasText: "Retrying" }).waitFor();
    await settled(app);
    expect(await app.evaluate(() => (window as { kept?: boolean }).kept)).toBe(true);
    expect(emulator.counters.submits).toBe(submits + 1);
    expect((await row("a lighthouse in a storm")).state).toBe("cached");
  });
});
