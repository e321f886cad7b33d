import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { promisify } from "node:util";
import type { Emulator } from "maxapi-emulator";
import { build, type InlineConfig } from "vite";
import { type GrokImageOptions, grokImage } from "vite-plugin-grok-image";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureLogger } from "../helpers/capture-logger.js";
import { type TempProject, tempProject } from "../helpers/temp-project.js";
import { grokTestOptions, startTestEmulator } from "../helpers/with-emulator.js";

/*
 * A build, then `grok-image prune --yes`, then a frozen build: the second build must find every image it needs,
 * including the one behind a template-literal import that the CLI's scan cannot see. Only the keys the first
 * build recorded in the cache (used.json) tell prune to keep it.
 */

const run = promisify(execFile);
const packageDir = path.dirname(
  createRequire(import.meta.url).resolve("vite-plugin-grok-image/package.json"),
);
const bin = path.join(packageDir, "dist", "cli", "main.js");

let emulator: Emulator;
let project: TempProject;

function config(options: GrokImageOptions): InlineConfig {
  return {
    root: project.root,
    configFile: false,
    logLevel: "silent",
    customLogger: captureLogger(),
    plugins: [grokImage(options)],
    build: { outDir: "dist", emptyOutDir: true },
  };
}

const manifestKeys = async () =>
  Object.keys(JSON.parse(await readFile(project.resolve(".grok-images", "manifest.json"), "utf8"))).sort();

beforeAll(async () => {
  emulator = await startTestEmulator();
  project = await tempProject("vite-prune-dynamic");
});

afterAll(async () => {
  await emulator?.close();
  await project?.remove();
});

describe("prune after a build", () => {
  it("keeps the image of a directive the scan cannot see, so a frozen build then makes no request", async () => {
    await build(config(grokTestOptions(emulator)));
    expect(emulator.counters.submitsByPrompt).toEqual({ "an amber lantern": 1, "a kettle on a stove": 1 });
    const built = await manifestKeys();
    expect(built).toHaveLength(2);

    // The real bin, not on a terminal and without CI: it prunes at once (--yes says so explicitly anyway).
    const env = { PATH: process.env.PATH ?? "" };
    const pruned = await run(process.execPath, [bin, "prune", project.root, "--yes", "--no-config"], { env });
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
