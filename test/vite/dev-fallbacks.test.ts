import type { Emulator } from "maxapi-emulator";
import { createServer, type ViteDevServer } from "vite";
import { grokImage } from "vite-plugin-grok-image";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type CapturedLogger, captureLogger } from "../helpers/capture-logger.js";
import { type TempProject, tempProject } from "../helpers/temp-project.js";
import { grokTestOptions, startTestEmulator } from "../helpers/with-emulator.js";

let emulator: Emulator;
const cleanups: (() => Promise<void>)[] = [];

async function devServer(options: Parameters<typeof grokImage>[0]) {
  const project: TempProject = await tempProject("vite-basic");
  const logger: CapturedLogger = captureLogger();
  const server: ViteDevServer = await createServer({
    root: project.root,
    configFile: false,
    customLogger: logger,
    plugins: [grokImage(options)],
    server: { port: 0, strictPort: true, host: "127.0.0.1", ws: false },
    optimizeDeps: { noDiscovery: true, include: [] },
  });
  await server.listen();
  cleanups.push(
    () => server.close(),
    () => project.remove(),
  );
  const origin = server.resolvedUrls?.local[0] ?? "";
  const main = await (await fetch(new URL("/src/main.ts", origin))).text();
  const modules = [...main.matchAll(/["'](\/@id\/__x00__grok-image:[^"']+)["']/g)].map((m) => m[1] as string);
  return { logger, origin, modules };
}

beforeAll(async () => {
  emulator = await startTestEmulator();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  emulator.reset();
});

afterAll(async () => {
  await emulator?.close();
});

describe("vite dev server fallbacks", () => {
  // The fallback only happens without a key; a developer's own MAXAPI_KEY would (rightly) prevent it.
  it.skipIf(Boolean(process.env.MAXAPI_KEY))(
    "without a key, shows placeholders after ONE warning",
    async () => {
      const { logger, origin, modules } = await devServer({ baseUrl: emulator.url, mode: "generate" });
      expect(modules.length).toBeGreaterThanOrEqual(3);
      for (const moduleUrl of modules) {
        const code = await (await fetch(new URL(moduleUrl, origin))).text();
        const asset = code.match(/import image0 from ["']([^"']+)["']/)?.[1] as string;
        const url = (await (await fetch(new URL(asset, origin))).text()).match(
          /export default ["']([^"']+)["']/,
        )?.[1];
        const image = await fetch(new URL(url as string, origin));
        expect(image.status).toBe(200);
        expect(image.headers.get("content-type")).toMatch(/^image\//);
      }
      const warnings = logger.warnings.filter((w) => w.includes("[grok-image]"));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain("MAXAPI_KEY");
      expect(emulator.counters.submits).toBe(0);
    },
  );

  it("a failed generation says what to do, not a stack trace, and keeps the page working", async () => {
    emulator.inject({
      phase: "submit",
      prompt: "lighthouse",
      fault: { type: "outcome", status: "FAILURE", failureReason: "CONTENT_MODERATION" },
    });
    const { logger, origin, modules } = await devServer(grokTestOptions(emulator));
    const lighthouse = modules.find((url) => url.includes("grok-a-lighthouse-in-a-storm"));
    // The page is never held: it shows a waiting image while the task runs (and fails) in the background.
    const first = await fetch(new URL(lighthouse as string, origin));
    expect(first.status).toBe(200);
    expect(await first.text()).toContain("grok-generating-");
    await vi.waitFor(() => expect(logger.errors.join("\n")).toContain("a lighthouse in a storm"), {
      timeout: 30_000,
    });
    // A reload keeps the page working: the module shows the failure as a waiting image (the overlay says why).
    const response = await fetch(new URL(lighthouse as string, origin));
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("grok-failed-");
    const logged = logger.errors.join("\n");
    expect(logged).toContain("a lighthouse in a storm");
    expect(logged).toMatch(/hint: Reword the prompt/);
    expect(logged).toContain("src/main.ts");
    expect(logged).not.toMatch(/^\s+at /m);
  });
});
