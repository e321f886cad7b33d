import { readdir, rm, writeFile } from "node:fs/promises";
import type { Emulator } from "maxapi-emulator";
import { build } from "vite";
import { grokImage } from "vite-plugin-grok-image";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureLogger } from "../helpers/capture-logger.js";
import { tempProjects } from "../helpers/temp-project.js";
import { grokTestOptions, startTestEmulator } from "../helpers/with-emulator.js";

let emulator: Emulator;
const projects = tempProjects();

beforeAll(async () => {
  emulator = await startTestEmulator();
});
afterAll(async () => {
  await emulator?.close();
  await projects.removeAll();
});

function viteBuild(root: string, options: Parameters<typeof grokImage>[0]) {
  return build({
    root,
    configFile: false,
    logLevel: "silent",
    customLogger: captureLogger(),
    plugins: [grokImage(options)],
    build: { outDir: "dist" },
  });
}

describe("a frozen build over a damaged original", () => {
  it("fails with GROK_CACHE_CORRUPT naming the damaged file, and pays nothing", async () => {
    const { root, resolve } = await projects.copy("vite-basic");
    await viteBuild(root, grokTestOptions(emulator));
    const paid = emulator.counters.tasksCreated;
    expect(paid).toBeGreaterThan(0);

    const originals = resolve(".grok-images", "originals");
    const names = await readdir(originals);
    for (const name of names) await writeFile(resolve(".grok-images", "originals", name), "not the image");
    // Without its variants, the build must read the originals again.
    await rm(resolve(".grok-images", "variants"), { recursive: true, force: true });

    const error = await viteBuild(root, grokTestOptions(emulator, { mode: "frozen" })).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toContain("[GROK_CACHE_CORRUPT]");
    expect(error?.message).toContain("damaged or missing");
    const named = names.filter((name) => error?.message.includes(resolve(".grok-images", "originals", name)));
    expect(named.length).toBeGreaterThan(0);
    expect(emulator.counters.tasksCreated).toBe(paid);
  });
});
