import { readFile, writeFile } from "node:fs/promises";
import type { Emulator } from "maxapi-emulator";
import { createServer, type ViteDevServer } from "vite";
import { grokImage } from "vite-plugin-grok-image";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { captureLogger } from "../helpers/capture-logger.js";
import { type TempProject, tempProject } from "../helpers/temp-project.js";
import { grokTestOptions, startTestEmulator } from "../helpers/with-emulator.js";

let emulator: Emulator;
let project: TempProject;
let server: ViteDevServer;
let origin: string;

async function get(url: string): Promise<Response> {
  const response = await fetch(new URL(url, origin));
  expect(response.status, `${url}: ${response.status}`).toBe(200);
  return response;
}

/** The `grok:` module URLs that Vite's import analysis wrote into a served module. */
function grokModuleUrls(code: string): string[] {
  return [...code.matchAll(/["'](\/@id\/__x00__grok-image:[^"']+)["']/g)].map((m) => m[1] as string);
}

/** A dev server answers a miss at once with a waiting image; this waits for the module that shows the real one. */
async function settledModule(moduleUrl: string): Promise<string> {
  let code = "";
  await vi.waitFor(
    async () => {
      code = await (await get(moduleUrl)).text();
      expect(code).not.toMatch(/grok-(generating|waiting)-/);
    },
    { timeout: 30_000, interval: 100 },
  );
  return code;
}

/** Follows a `grok:` module to the URL of its first image, the way the browser does. */
async function firstImageUrl(moduleUrl: string): Promise<string> {
  const moduleCode = await settledModule(moduleUrl);
  const assetModule = moduleCode.match(/import image0 from ["']([^"']+)["']/)?.[1];
  expect(assetModule, moduleCode).toBeDefined();
  const assetCode = await (await get(assetModule as string)).text();
  const url = assetCode.match(/export default ["']([^"']+)["']/)?.[1];
  expect(url, assetCode).toBeDefined();
  return url as string;
}

beforeAll(async () => {
  emulator = await startTestEmulator();
  project = await tempProject("vite-basic");
  server = await createServer({
    root: project.root,
    configFile: false,
    logLevel: "silent",
    customLogger: captureLogger(),
    plugins: [grokImage(grokTestOptions(emulator))],
    server: { port: 0, strictPort: true, host: "127.0.0.1", ws: false },
    optimizeDeps: { noDiscovery: true, include: [] },
  });
  await server.listen();
  origin = server.resolvedUrls?.local[0] ?? "";
});

afterAll(async () => {
  await server?.close();
  await emulator?.close();
  await project?.remove();
});

describe("vite dev server", () => {
  it("serves each directive's image from the cache with an image content type", async () => {
    const main = await (await get("/src/main.ts")).text();
    const modules = grokModuleUrls(main);
    expect(modules.length).toBeGreaterThanOrEqual(3);
    for (const moduleUrl of modules) {
      const imageUrl = await firstImageUrl(moduleUrl);
      const image = await get(imageUrl);
      expect(image.headers.get("content-type")).toMatch(/^image\/(webp|png|jpeg)$/);
      expect((await image.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }
  });

  it("keeps serving a module the browser already knows after a restart", async () => {
    const [moduleUrl] = grokModuleUrls(await (await get("/src/main.ts")).text());
    await server.restart();
    origin = server.resolvedUrls?.local[0] ?? origin;
    // Straight to the grok: module, as a browser holding the old page would, before main.ts is transformed again.
    const image = await get(await firstImageUrl(moduleUrl as string));
    expect(image.headers.get("content-type")).toMatch(/^image\//);
  });

  it("picks up an edited prompt on the next request of the importer", async () => {
    const main = project.resolve("src", "main.ts");
    const source = await readFile(main, "utf8");
    await writeFile(main, source.replace("two red kites over a hill", "two blue kites over a hill"));
    const submits = emulator.counters.submits;
    const modules = grokModuleUrls(await (await get("/src/main.ts")).text());
    const edited = modules.find((url) => url.includes("grok-two-blue-kites"));
    expect(edited, modules.join("\n")).toBeDefined();
    const image = await get(await firstImageUrl(edited as string));
    expect(image.headers.get("content-type")).toBe("image/png");
    await vi.waitFor(() => expect(emulator.counters.submitsByPrompt["two blue kites over a hill"]).toBe(1));
    expect(emulator.counters.submits).toBe(submits + 1);
  });

  it("lists every directive of the project in the workbench's state, where it is written", async () => {
    const page = await get("/__grok-image/");
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(await page.text()).toContain('<script type="module" src="/__grok-image/app.js"></script>');
    const state = (await (await get("/__grok-image/state")).json()) as {
      directives: { raw: string; state: string; shownFile: string; line: number }[];
    };
    const raws = state.directives.map((d) => d.raw);
    expect(raws).toContain("grok:a misty forest at dawn?format=webp&w=200");
    // The edited directive, as the source says it now; the dynamically imported one is listed too.
    expect(raws).toContain("grok:two blue kites over a hill?n=2&w=120&h=90&format=png");
    expect(raws.some((raw) => raw.includes("a lighthouse in a storm"))).toBe(true);
    expect(raws.filter((raw) => raw.includes("kites"))).toEqual([
      "grok:two blue kites over a hill?n=2&w=120&h=90&format=png",
    ]);
    const forest = state.directives.find((d) => d.raw === "grok:a misty forest at dawn?w=200");
    expect(forest).toMatchObject({ state: "cached", shownFile: "src/main.ts", line: 4 });
  });
});
