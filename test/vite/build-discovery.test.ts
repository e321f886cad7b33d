import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Emulator } from "maxapi-emulator";
import { build, createBuilder, type InlineConfig, type Plugin } from "vite";
import { type GrokImageOptions, grokImage } from "vite-plugin-grok-image";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { captureLogger } from "../helpers/capture-logger.js";
import { referencedImageUrls } from "../helpers/dist-files.js";
import { type TempProject, tempProjects } from "../helpers/temp-project.js";
import { grokTestOptions, startTestEmulator } from "../helpers/with-emulator.js";

/*
 * The build plans what its module graph imports, never what merely sits in the project: `vite-unused` has a dead
 * module (src/old.ts), a test file and a README that all name directives of their own.
 */

const IMPORTED = ["a red door", "a paper boat", "a round window"];
const NOT_IMPORTED = [
  "an old unused banner",
  "a test only sample",
  "a readme example",
  "a hero from the readme",
];

let emulator: Emulator;
const projects = tempProjects();

function config(root: string, options: GrokImageOptions, extra: Partial<InlineConfig> = {}): InlineConfig {
  return {
    root,
    configFile: false,
    logLevel: "silent",
    customLogger: captureLogger(),
    plugins: [grokImage(options)],
    build: { outDir: "dist", emptyOutDir: true },
    ...extra,
  };
}

/** The error a build fails with, and the stable code of its (first) plugin error. */
async function buildError(inline: InlineConfig): Promise<{ message: string; code?: string }> {
  const error = await build(inline).then(
    () => undefined,
    (e: unknown) => e as Error & { errors?: { pluginCode?: string }[] },
  );
  if (!error) throw new Error("the build succeeded but should have failed");
  const code = error.errors?.[0]?.pluginCode;
  return { message: error.message, ...(code ? { code } : {}) };
}

beforeAll(async () => {
  emulator = await startTestEmulator();
});

afterEach(() => {
  emulator.reset();
});

afterAll(async () => {
  await emulator?.close();
  await projects.removeAll();
});

describe("vite build of a project that writes no directive", () => {
  it("builds with no request and makes no cache folder", async () => {
    const site = await projects.copy("vite-unused");
    await rm(site.resolve("src"), { recursive: true });
    await rm(site.resolve("README.md"));
    await writeFile(site.resolve("index.html"), "<!doctype html><title>plain</title><p>no images here</p>\n");
    await build(config(site.root, grokTestOptions(emulator)));
    expect(await readFile(site.resolve("dist/index.html"), "utf8")).toContain("no images here");
    expect(emulator.counters.submits + emulator.counters.queries).toBe(0);
    expect(existsSync(site.resolve(".grok-images"))).toBe(false);
  });
});

describe("vite build: only what the build imports", () => {
  let site: TempProject;

  beforeAll(async () => {
    site = await projects.copy("vite-unused");
  });

  it("generates the static, dynamic and lazy-chunk directives, and nothing else", async () => {
    await build(config(site.root, grokTestOptions(emulator)));
    expect(emulator.counters.submitsByPrompt).toEqual(Object.fromEntries(IMPORTED.map((p) => [p, 1])));
    expect(await referencedImageUrls(site.resolve("dist"))).toHaveLength(IMPORTED.length);
  });

  it("a frozen build succeeds from the cache although directives nobody imports are missing", async () => {
    await build(config(site.root, grokTestOptions(emulator, { mode: "frozen" })));
    expect(emulator.counters.submits).toBe(0);
    expect(emulator.counters.queries).toBe(0);
    expect(await referencedImageUrls(site.resolve("dist"))).toHaveLength(IMPORTED.length);
  });

  it("never scans a custom build.outDir: a stale file there with a bad directive fails no build", async () => {
    // Output kept from build to build (`emptyOutDir: false`) is no source of the next one, whatever it names.
    const stale = site.resolve("site-out", "assets", "stale.js");
    await mkdir(path.dirname(stale), { recursive: true });
    await writeFile(stale, 'import stale from "grok:a stale banner?tier=nope";\nexport default stale;\n');
    await build(
      config(site.root, grokTestOptions(emulator, { mode: "frozen" }), {
        build: { outDir: "site-out", emptyOutDir: false },
      }),
    );
    expect(existsSync(stale)).toBe(true);
    expect(await referencedImageUrls(site.resolve("site-out"))).toHaveLength(IMPORTED.length);
    expect(emulator.counters.submits).toBe(0);
  });

  it("a frozen build without the cache lists the imported misses only", async () => {
    const fresh = await projects.copy("vite-unused");
    const error = await buildError(config(fresh.root, grokTestOptions(emulator, { mode: "frozen" })));
    // One report for the whole batch, not one per module waiting for it.
    expect(error.message.split("missing from the cache")).toHaveLength(2);
    expect(error.message).toContain("a red door");
    expect(error.message).toContain("a paper boat");
    for (const prompt of NOT_IMPORTED) expect(error.message).not.toContain(prompt);
    expect(emulator.counters.submits).toBe(0);
  });

  it.skipIf(Boolean(process.env.MAXAPI_KEY))(
    "without a key, the error lists the imported misses only",
    async () => {
      const fresh = await projects.copy("vite-unused");
      const error = await buildError(config(fresh.root, { baseUrl: emulator.url, mode: "generate" }));
      expect(error.code).toBe("GROK_NO_API_KEY");
      expect(error.message).toContain("a red door");
      for (const prompt of NOT_IMPORTED) expect(error.message).not.toContain(prompt);
      expect(emulator.counters.submits).toBe(0);
    },
  );
});

/**
 * `virtual:late-gallery` imports a second directive that no scan of the project can see (another plugin's virtual
 * module), and its code is only handed over once the first directive has been submitted: the plan never knew it.
 */
function lateGallery(emulator: Emulator): Plugin {
  return {
    name: "test:late-gallery",
    resolveId: (id) => (id === "virtual:late-gallery" ? "\0late-gallery" : null),
    async load(id) {
      if (id !== "\0late-gallery") return null;
      while (emulator.counters.submits === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      return 'import late from "grok:a late lantern";\nexport default late;\n';
    },
  };
}

describe("vite build: maxCost bounds every directive of the build together", () => {
  it("refuses a directive the plan did not know when it would go over the budget, before submitting it", async () => {
    const { root } = await projects.copy("vite-late");
    // Each lite image costs $0.001: the planned one fits, the two together do not.
    const inline = config(root, grokTestOptions(emulator, { maxCost: 0.0015 }));
    inline.plugins = [...(inline.plugins ?? []), lateGallery(emulator)];
    const error = await buildError(inline);
    expect(error.code).toBe("GROK_BUDGET_EXCEEDED");
    expect(error.message).toContain("a late lantern");
    // Its importer is another plugin's virtual module, not a file: no bogus path is printed for it.
    expect(error.message).not.toContain("late-gallery");
    expect(error.message).toContain("already committed");
    expect(emulator.counters.submitsByPrompt).toEqual({ "a first lantern": 1 });
  });
});

describe("vite build: maxCost bounds every environment of the build together", () => {
  it("the plan prices every environment's directives before the first submit, and pays nothing over budget", async () => {
    const { root } = await projects.copy("vite-unused");
    // The client needs three lite images ($0.003); an SSR environment built from src/old.ts needs a pro one
    // ($0.0015). Each fits $0.004 alone; the build as a whole does not, which the plan knows before any submit.
    const inline = config(root, grokTestOptions(emulator, { maxCost: 0.004 }), {
      builder: {},
      environments: {
        ssr: { build: { outDir: "dist/server", rollupOptions: { input: "src/old.ts" } } },
      },
    });
    const builder = await createBuilder(inline);
    const error = await builder.buildApp().then(
      () => undefined,
      (e: unknown) => e as Error & { errors?: { pluginCode?: string }[] },
    );
    expect(error?.errors?.[0]?.pluginCode).toBe("GROK_BUDGET_EXCEEDED");
    expect(error?.message).toContain("an old unused banner");
    for (const prompt of IMPORTED) expect(error?.message).toContain(prompt);
    expect(error?.message).toContain("src/old.ts:3:");
    expect(emulator.counters.submits).toBe(0);
  });
});

describe("vite build: the keys every environment used", () => {
  it("records in used.json the keys a later environment added to those of the first", async () => {
    const { root, resolve } = await projects.copy("vite-unused");
    // The client imports three directives; an SSR environment built from src/old.ts, after the client, a fourth.
    const inline = config(root, grokTestOptions(emulator), {
      builder: {},
      environments: {
        ssr: { build: { outDir: "dist/server", rollupOptions: { input: "src/old.ts" } } },
      },
    });
    await (await createBuilder(inline)).buildApp();
    const used = JSON.parse(await readFile(resolve(".grok-images", "used.json"), "utf8"));
    const manifest = JSON.parse(await readFile(resolve(".grok-images", "manifest.json"), "utf8"));
    expect(Object.keys(manifest)).toHaveLength(IMPORTED.length + 1);
    expect(used.roots["."].sort()).toEqual(Object.keys(manifest).sort());
  });
});
