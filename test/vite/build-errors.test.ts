import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import type { Emulator } from "maxapi-emulator";
import { build } from "vite";
import { grokImage } from "vite-plugin-grok-image";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { captureLogger } from "../helpers/capture-logger.js";
import { tempProjects } from "../helpers/temp-project.js";
import { grokTestOptions, startTestEmulator } from "../helpers/with-emulator.js";

let emulator: Emulator;
const projects = tempProjects();

async function buildError(root: string, options: Parameters<typeof grokImage>[0]): Promise<Error> {
  const error = await build({
    root,
    configFile: false,
    logLevel: "silent",
    customLogger: captureLogger(),
    plugins: [grokImage(options)],
    build: { outDir: "dist" },
  }).then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  if (!error) throw new Error("the build succeeded but should have failed");
  return error;
}

beforeAll(async () => {
  emulator = await startTestEmulator();
});

afterEach(async () => {
  emulator.reset();
  await projects.removeAll();
});

afterAll(async () => {
  await emulator?.close();
});

describe("vite build failures", () => {
  it("frozen mode with misses fails listing every missing directive and its cost, without a request", async () => {
    const { root, resolve } = await projects.copy("vite-basic");
    const error = await buildError(root, grokTestOptions(emulator, { mode: "frozen" }));
    expect(error.message).toContain("a misty forest at dawn");
    expect(error.message).toContain("two red kites over a hill");
    expect(error.message).toContain("a lighthouse in a storm");
    expect(error.message).toMatch(/\$\d/);
    // One report for the batch, not a copy per module waiting for it.
    expect(error.message.split("missing from the cache")).toHaveLength(2);
    expect(emulator.counters.submits).toBe(0);
    expect(existsSync(resolve("dist"))).toBe(false);
  });

  it("a bad directive fails naming the importing file and the directive", async () => {
    const { root } = await projects.copy("vite-bad-directive");
    const error = await buildError(root, grokTestOptions(emulator));
    expect(error.message).toContain("grok:a sleeping cat?tier=ultra");
    expect(error.message).toContain("src/main.ts");
    expect(error.message).toContain("lite, standard, pro");
    expect(emulator.counters.submits).toBe(0);
  });

  it("bad directives anywhere in the graph fail the build before its first submit, each with file:line:col", async () => {
    const { root } = await projects.copy("vite-plan-errors");
    const error = await buildError(root, grokTestOptions(emulator));
    // The module importing the typo is only reached through a dynamic import, after two misses that would be paid.
    expect(emulator.counters.submits).toBe(0);
    expect(error.message).toContain("src/lazy.ts:2:20");
    expect(error.message).toContain("grok:pines in fog?with=960");
    expect(error.message).toContain('"w"');
    expect(error.message).toContain("src/other.ts:1:18");
    expect(error.message).toContain("lite, standard, pro");
    // A code frame points at the directive.
    expect(error.message).toMatch(/> +2 \| import pines from "grok:pines in fog\?with=960";/);
  });

  it("a bad directive in a file no module imports fails the build too, with nothing paid for the others", async () => {
    const { root, resolve } = await projects.copy("vite-basic");
    await writeFile(resolve("src/drafts.ts"), 'export { default } from "grok:a draft?fit=squash";\n');
    const error = await buildError(root, grokTestOptions(emulator));
    // The plan did not hold the bundler up, but nothing used a directive before it was checked.
    expect(emulator.counters.submits).toBe(0);
    expect(error.message).toContain("src/drafts.ts:1:26");
    expect(error.message).toContain("grok:a draft?fit=squash");
    expect(existsSync(resolve("dist"))).toBe(false);
  });

  it("a failed generation fails the build with the API's reason and the task id", async () => {
    const { root } = await projects.copy("vite-basic");
    emulator.inject({
      phase: "submit",
      prompt: "lighthouse",
      fault: { type: "outcome", status: "FAILURE", failureReason: "CONTENT_MODERATION" },
    });
    const error = await buildError(root, grokTestOptions(emulator));
    expect(error.message).toContain("a lighthouse in a storm");
    expect(error.message).toMatch(/moderation/i);
    expect(error.message).toContain("src/main.ts");
    const [taskId] = Object.keys(emulator.counters.queriesByTask).filter(
      (id) => emulator.getTask(id)?.status === "FAILURE",
    );
    expect(taskId).toBeDefined();
    expect(error.message).toContain(taskId);
  });
});
