import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Emulator } from "maxapi-emulator";
import { build } from "vite";
import { grokImage } from "vite-plugin-grok-image";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureLogger } from "../helpers/capture-logger.js";
import { grokTestOptions, startTestEmulator } from "../helpers/with-emulator.js";

/*
 * `concurrency: "auto"` against an API that answers 429 above 10 tasks in flight: the build grows past the limit,
 * is pushed back, and still finishes every directive, paying for each exactly once. Then the same project built
 * again, all from the cache, in a fresh process: it must load neither the HTTP client nor sharp.
 */

const COUNT = 30;
const LIMIT = 10;
const PROMPTS = Array.from({ length: COUNT }, (_, i) => `a paper lantern number ${i}`);
const CHILD = fileURLToPath(new URL("../helpers/build-listing-modules.mjs", import.meta.url));

let emulator: Emulator;
let root: string;

beforeAll(async () => {
  // Tasks long enough that the first submits are still running when auto has grown past the limit.
  emulator = await startTestEmulator({ latencyMs: 600, maxTasksInFlight: LIMIT, inFlightRetryAfter: 0.05 });
  root = await mkdtemp(path.join(os.tmpdir(), "grok-throttled-"));
  await mkdir(path.join(root, "src"));
  await writeFile(
    path.join(root, "index.html"),
    '<!doctype html><html><body><script type="module" src="/src/main.js"></script></body></html>\n',
  );
  const imports = PROMPTS.map((prompt, i) => `import image${i} from "grok:${prompt}?w=32";`);
  const list = PROMPTS.map((_, i) => `image${i}`).join(", ");
  await writeFile(
    path.join(root, "src/main.js"),
    `${imports.join("\n")}\nconsole.log([${list}].map((image) => image.src));\n`,
  );
});

afterAll(async () => {
  await emulator?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('concurrency "auto" against an API that limits tasks in flight', () => {
  it("finishes every directive, and pays for each once, when MaxAPI answers 429 above the limit", async () => {
    const logger = captureLogger();
    await build({
      root,
      configFile: false,
      logLevel: "silent",
      customLogger: logger,
      plugins: [grokImage(grokTestOptions(emulator, { concurrency: "auto" }))],
      build: { outDir: "dist", emptyOutDir: true },
    });
    // Auto grew past the limit and was pushed back...
    expect(emulator.counters.throttled).toBeGreaterThan(0);
    // ...and every refused submit, which created no task, was sent again: one paid task per directive.
    expect(emulator.counters.tasksCreated).toBe(COUNT);
    expect(emulator.counters.peakTasksInFlight).toBeLessThanOrEqual(LIMIT);
    const manifest = JSON.parse(await readFile(path.join(root, ".grok-images/manifest.json"), "utf8"));
    const prompts = Object.values(manifest as Record<string, { prompt: string }>).map((e) => e.prompt);
    expect(prompts.sort()).toEqual([...PROMPTS].sort());
    const summary = logger.infos.find((line) => line.includes(`${COUNT} generated`));
    expect(summary, logger.infos.join("\n")).toContain("0 failed");
  });

  it("builds again from the cache without loading the HTTP client or sharp, and without a request", async () => {
    emulator.reset();
    const options = grokTestOptions(emulator, { concurrency: "auto" });
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [CHILD, JSON.stringify({ root, options })],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    const loaded = JSON.parse(stdout.trim().split("\n").at(-1) as string) as string[];
    // The plugin did run in that process...
    expect(loaded.some((url) => url.includes("/vite-plugin/dist/bundle/index.js"))).toBe(true);
    // ...and pulled in no HTTP client, retry stack or image library (the client is a chunk of the bundle's own).
    const heavy = loaded.filter((url) =>
      /\/node_modules\/(?:undici|p-retry|sharp|@img)\/|\/vite-plugin\/dist\/(?:api\/|bundle\/maxapi-client-)/.test(
        url,
      ),
    );
    expect(heavy).toEqual([]);
    const { submits, queries, downloads } = emulator.counters;
    expect(submits + queries + downloads).toBe(0);
  });
});
