import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { promisify } from "node:util";
import type { Emulator } from "maxapi-emulator";
import { build, type InlineConfig, type Plugin } from "vite";
import { type GrokImageOptions, grokImage } from "vite-plugin-grok-image";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureLogger } from "../helpers/capture-logger.js";
import { type TempProject, tempProject } from "../helpers/temp-project.js";
import { grokTestOptions, startTestEmulator } from "../helpers/with-emulator.js";

/*
 * A build, then `grok-image prune --yes`, then a frozen build: the second build must find every image it needs.
 * The scan finds a template-literal import, a module in a hidden folder and one outside the Vite root; a directive
 * in another plugin's virtual module no scan can see, and only the keys the first build recorded in the cache
 * (used.json) tell prune to keep it.
 */

const run = promisify(execFile);
const packageDir = path.dirname(
  createRequire(import.meta.url).resolve("vite-plugin-grok-image/package.json"),
);
const bin = path.join(packageDir, "dist", "cli", "main.js");

let emulator: Emulator;
let project: TempProject;

/** A virtual module with a directive of its own: the bundler reaches it, no scan of the files can. */
const hiddenGallery: Plugin = {
  name: "test:hidden-gallery",
  resolveId: (id) => (id === "virtual:hidden-gallery" ? "\0hidden-gallery" : null),
  load: (id) =>
    id === "\0hidden-gallery" ? 'export { default } from "grok:a hidden gallery print?w=96";\n' : null,
};

const FOUND_BY_SCAN = ["an amber lantern", "a brass bell", "a tea cup", "a kettle on a stove"];

function config(options: GrokImageOptions): InlineConfig {
  return {
    root: project.resolve("site"),
    configFile: false,
    logLevel: "silent",
    customLogger: captureLogger(),
    plugins: [grokImage(options), hiddenGallery],
    build: { outDir: "dist", emptyOutDir: true },
  };
}

const manifestKeys = async () =>
  Object.keys(
    JSON.parse(await readFile(project.resolve("site", ".grok-images", "manifest.json"), "utf8")),
  ).sort();

beforeAll(async () => {
  emulator = await startTestEmulator();
  project = await tempProject("vite-prune-forms");
});

afterAll(async () => {
  await emulator?.close();
  await project?.remove();
});

describe("prune after a build", () => {
  it("keeps every image the build used, so a frozen build then makes no request", async () => {
    await build(config(grokTestOptions(emulator)));
    expect(emulator.counters.submitsByPrompt).toEqual(
      Object.fromEntries([...FOUND_BY_SCAN, "a hidden gallery print"].map((prompt) => [prompt, 1])),
    );
    const built = await manifestKeys();
    expect(built).toHaveLength(5);

    // The CLI's scan finds what the build finds in files: every form but the virtual module.
    const env = { PATH: process.env.PATH ?? "" };
    const site = project.resolve("site");
    const scanned = await run(process.execPath, [bin, "scan", site, "--json", "--no-config"], { env });
    const report = JSON.parse(scanned.stdout) as { directives: { prompt: string; status: string }[] };
    expect(report.directives.map((d) => d.prompt).sort()).toEqual([...FOUND_BY_SCAN].sort());
    expect(report.directives.every((d) => d.status === "cached")).toBe(true);

    // The real bin, not on a terminal and without CI: it prunes at once (--yes says so explicitly anyway).
    const pruned = await run(process.execPath, [bin, "prune", site, "--yes", "--no-config"], { env });
    expect(pruned.stdout).toContain(
      "Kept 1 entry that no directive of the tree names but a build recorded using",
    );
    expect(await manifestKeys()).toEqual(built);

    emulator.reset();
    await build(config(grokTestOptions(emulator, { mode: "frozen" })));
    const { submits, queries, downloads } = emulator.counters;
    expect({ submits, queries, downloads }).toEqual({ submits: 0, queries: 0, downloads: 0 });
  });
});
