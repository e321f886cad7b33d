import { readFile } from "node:fs/promises";
import type { Emulator } from "maxapi-emulator";
import { createServer, type ViteDevServer } from "vite";
import { type GrokImageOptions, grokImage } from "vite-plugin-grok-image";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type CapturedLogger, captureLogger } from "../helpers/capture-logger.js";
import { type TempProject, tempProjects } from "../helpers/temp-project.js";
import { grokTestOptions, startTestEmulator } from "../helpers/with-emulator.js";

/*
 * A dev server answers any request: a page in another tab can load its URLs as images, and with `--host` any
 * machine on the network can. It must only ever pay for directives written in the project's files.
 */

let emulator: Emulator;
const projects = tempProjects();
const servers: ViteDevServer[] = [];

const CROSS_SITE = {
  "sec-fetch-site": "cross-site",
  "sec-fetch-mode": "no-cors",
  "sec-fetch-dest": "image",
  origin: "http://evil.example",
  referer: "http://evil.example/page.html",
};

async function start(project: TempProject, options: GrokImageOptions, logger: CapturedLogger) {
  const server = await createServer({
    root: project.root,
    configFile: false,
    logLevel: "info",
    customLogger: logger,
    plugins: [grokImage(options)],
    server: { port: 0, strictPort: true, host: "127.0.0.1", ws: false },
    optimizeDeps: { noDiscovery: true, include: [] },
  });
  servers.push(server);
  await server.listen();
  const origin = server.resolvedUrls?.local[0] ?? "";
  const get = async (url: string, headers: Record<string, string> = {}) => {
    const response = await fetch(new URL(url, origin), { headers });
    return { status: response.status, text: await response.text() };
  };
  return { server, get };
}

/** The `grok:` module URLs that Vite's import analysis wrote into a served module. */
function grokModuleUrls(code: string): string[] {
  return [...code.matchAll(/["'](\/@id\/__x00__grok-image:[^"']+)["']/g)].map((m) => m[1] as string);
}

const all = (logger: CapturedLogger) => [...logger.infos, ...logger.warnings, ...logger.errors].join("\n");

const virtualUrl = (directive: string) =>
  `/@id/__x00__grok-image:${Buffer.from(directive, "utf8").toString("base64url")}/x`;

beforeAll(async () => {
  emulator = await startTestEmulator();
});

afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
  emulator.reset();
  await projects.removeAll();
});

afterAll(async () => {
  await emulator?.close();
});

describe("vite dev: only directives written in the project's files are paid for", () => {
  it("answers requests for any other directive with a placeholder, never a task, a manifest entry or a review line", async () => {
    const project = await projects.copy("vite-basic");
    const logger = captureLogger();
    const { get } = await start(project, grokTestOptions(emulator), logger);

    const plain = await get("/@id/grok:a%20random%20prompt?tier=pro&n=10");
    expect(plain.status).toBe(200);
    const crossSite = await get("/@id/grok:a%20cross%20site%20prompt?tier=pro", CROSS_SITE);
    expect(crossSite.status).toBe(200);
    const virtual = await get(virtualUrl("grok:a virtual id prompt?tier=pro&n=4"), CROSS_SITE);
    expect(virtual.status).toBe(200);
    // Endless distinct keys through `v=` cost nothing either.
    const floods = await Promise.all(
      Array.from({ length: 20 }, (_, i) => get(`/@id/grok:a%20misty%20forest%20at%20dawn?v=flood${i}`)),
    );
    expect(floods.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(emulator.counters.submits).toBe(0);

    // One warning per directive, naming it and saying nothing was paid.
    expect(all(logger)).toContain("grok:a random prompt?tier=pro&n=10");
    expect(all(logger)).toMatch(/written in no file of the project[^\n]*pays nothing/);

    // The project's own directives are still generated when its page asks for them (in the background).
    const main = await get("/src/main.ts");
    const modules = grokModuleUrls(main.text);
    expect(modules.length).toBeGreaterThanOrEqual(2);
    for (const url of modules) expect((await get(url)).status).toBe(200);
    const manifestFile = project.resolve(".grok-images", "manifest.json");
    await vi.waitFor(async () => expect(await readFile(manifestFile, "utf8")).toContain("two red kites"), {
      timeout: 30_000,
    });
    expect(emulator.counters.submits).toBeGreaterThan(0);
    const prompts = Object.keys(emulator.counters.submitsByPrompt);
    expect(prompts.every((p) => !/random|cross site|virtual id/.test(p))).toBe(true);

    const manifest = await readFile(manifestFile, "utf8");
    expect(manifest).not.toMatch(/random prompt|cross site|virtual id|flood/);
    const workbench = await get("/__grok-image/state");
    expect(workbench.text).toContain("two red kites");
    expect(workbench.text).not.toMatch(/random prompt|cross site|virtual id|flood/);
  });

  it("stops spending at the dev budget with a clear message and serves placeholders for the rest", async () => {
    const project = await projects.copy("vite-basic");
    const logger = captureLogger();
    // The forest ($0.001) fits; the two kites ($0.002) do not.
    const { get } = await start(project, grokTestOptions(emulator, { maxCost: 0.0015 }), logger);
    const modules = grokModuleUrls((await get("/src/main.ts")).text);
    const forest = modules.find((url) => url.includes("grok-a-misty-forest"));
    const kites = modules.find((url) => url.includes("grok-two-red-kites"));
    expect((await get(forest as string)).status).toBe(200);
    expect((await get(kites as string)).status).toBe(200);
    await vi.waitFor(() => expect(emulator.counters.submits).toBe(1), { timeout: 30_000 });
    expect(emulator.counters.submitsByPrompt).toEqual({ "a misty forest at dawn": 1 });
    expect(all(logger)).toContain("GROK_BUDGET_EXCEEDED");
    expect(all(logger)).toContain("two red kites over a hill");
    expect(all(logger)).toMatch(/The dev server spends at most \$0\.0015 per start/);
  });
});
