import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, PRICE_PER_IMAGE_USD, startEmulator } from "../../../maxapi-emulator/src/index.js";
import { captureIo } from "./__test__/capture-io.js";
import { ASTRO_INTEGRATION_NAME, VITE_PLUGIN_NAME } from "./load-config.js";
import { runCli } from "./run-cli.js";
import type { ScanReport } from "./scan-command.js";

const KEY = "sk-config-secret-71d0b3e5";
const PRO = "grok-imagine/text-to-image-pro";
const LITE = "grok-imagine/text-to-image-lite";
// Inside the repository so the project's config resolves `vite-plugin-grok-image` from test/node_modules.
const TMP_PARENT = fileURLToPath(new URL("../../../../test/.tmp/", import.meta.url));

let emulator: Emulator;
let root: string;
const printed: string[] = [];

const capture = (env: NodeJS.ProcessEnv = {}) => captureIo(root, env, (chunk) => printed.push(chunk));

async function scan(...flags: string[]): Promise<{ report: ScanReport; err: string }> {
  const c = capture();
  expect(await runCli(["scan", "--json", ...flags], c.io)).toBe(0);
  return { report: JSON.parse(c.out) as ScanReport, err: c.err };
}

async function manifest(cacheDir: string): Promise<Record<string, { prompt: string; model: string }>> {
  return JSON.parse(await readFile(path.join(root, cacheDir, "manifest.json"), "utf8"));
}

beforeAll(async () => {
  emulator = await startEmulator({ apiKeys: [KEY], latencyMs: 20, imageScale: 0.2 });
  await mkdir(TMP_PARENT, { recursive: true });
  root = await mkdtemp(path.join(TMP_PARENT, "grok-cli-config-"));
  await mkdir(path.join(root, "src"));
  await mkdir(path.join(root, "configs"));
  await writeFile(
    path.join(root, "index.html"),
    '<!doctype html><html><body><script type="module" src="/src/main.js"></script></body></html>\n',
  );
  await writeFile(
    path.join(root, "src", "main.js"),
    'import lantern from "grok:a lantern in the fog";\nimport kettle from "grok:a copper kettle?tier=standard";\n' +
      "document.body.append(lantern, kettle);\n",
  );
  // The key only in `.env`, as the build reads it; the API origin only in the config.
  await writeFile(path.join(root, ".env"), `MAXAPI_KEY=${KEY}\n`);
  // Nested arrays and falsy entries, as Vite allows them.
  await writeFile(
    path.join(root, "vite.config.mjs"),
    'import { grokImage } from "vite-plugin-grok-image";\n' +
      `export default { logLevel: "silent", plugins: [false, [grokImage({ tier: "pro", format: "png", baseUrl: "${emulator.url}" })]] };\n`,
  );
  await writeFile(
    path.join(root, "configs", "custom.config.mjs"),
    'import { grokImage } from "vite-plugin-grok-image";\n' +
      `export default () => ({ plugins: [Promise.resolve(grokImage({ cacheDir: "art/cache", baseUrl: "${emulator.url}" }))] });\n`,
  );
});

afterAll(async () => {
  await emulator?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe("grok-image reads the plugin's options from the project's vite.config", () => {
  it("generate pays for the config's tier, then scan shows everything cached", async () => {
    const before = await scan();
    expect(before.report.directives.map((d) => [d.prompt, d.model, d.status])).toEqual([
      ["a lantern in the fog", PRO, "missing"],
      ["a copper kettle", "grok-imagine/text-to-image-standard", "missing"],
    ]);
    expect(before.err).toBe("");

    const c = capture();
    expect(await runCli(["generate"], c.io)).toBe(0);
    expect(c.err).toContain("using options from vite.config.mjs");
    expect(emulator.counters.submits).toBe(2);
    const models = Object.values(await manifest(".grok-images")).map((e) => [e.prompt, e.model]);
    expect(models).toContainEqual(["a lantern in the fog", PRO]);

    const after = await scan();
    expect(after.report.summary).toMatchObject({ directives: 2, cached: 2, missing: 0 });
  });

  it("a vite build of the project then makes no API request and emits the config's format", async () => {
    const submits = emulator.counters.submits;
    const queries = emulator.counters.queries;
    await build({ root, logLevel: "silent" });
    expect(emulator.counters.submits).toBe(submits);
    expect(emulator.counters.queries).toBe(queries);
    const assets = await readdir(path.join(root, "dist", "assets"));
    expect(assets.filter((f) => f.endsWith(".png"))).toHaveLength(2);
  });

  it("a flag that contradicts the config wins, with a note", async () => {
    const c = capture();
    expect(await runCli(["scan", "--tier", "standard"], c.io)).toBe(0);
    expect(c.err).toContain("overriding the config's tier pro with --tier standard");
    const { report, err } = await scan("--tier", "standard");
    expect(err).toBe("");
    expect(report.directives[0]).toMatchObject({
      model: "grok-imagine/text-to-image-standard",
      status: "missing",
    });
  });

  it("--no-config falls back to the defaults: lite, and the environment", async () => {
    const { report } = await scan("--no-config");
    expect(report.directives[0]).toMatchObject({ model: LITE, status: "missing" });
    expect(report.summary.estimatedCostUsd).toBeCloseTo(PRICE_PER_IMAGE_USD[LITE], 9);

    const c = capture({ MAXAPI_BASE_URL: emulator.url });
    expect(await runCli(["generate", "--no-config", "--cache-dir", "lite-cache"], c.io)).toBe(0);
    expect(c.err).not.toContain("using options");
    const models = Object.values(await manifest("lite-cache")).map((e) => [e.prompt, e.model]);
    expect(models).toContainEqual(["a lantern in the fog", LITE]);
  });

  it("--config reads another file: a function config, a promised plugin and a custom cacheDir", async () => {
    const c = capture();
    expect(await runCli(["generate", "--config", "configs/custom.config.mjs"], c.io)).toBe(0);
    expect(c.err).toContain("using options from configs/custom.config.mjs");
    expect(existsSync(path.join(root, "art", "cache", "manifest.json"))).toBe(true);
    const models = Object.values(await manifest("art/cache")).map((e) => e.model);
    expect(models).toContain(LITE);
    const { report } = await scan("--config", "configs/custom.config.mjs");
    expect(report.cacheDir).toBe(path.join(root, "art", "cache"));
    expect(report.summary).toMatchObject({ cached: 2, missing: 0 });
  });

  it("reads the astro-grok-image integration's options from astro.config.*, preferred over vite.config.*", async () => {
    const file = path.join(root, "astro.config.mjs");
    await writeFile(
      file,
      'export default { integrations: [[{ name: "astro-grok-image", hooks: {}, options: { tier: "standard" } }]] };\n',
    );
    try {
      const c = capture();
      expect(await runCli(["scan"], c.io)).toBe(0);
      expect(c.err).toContain("using options from astro.config.mjs");
      const { report } = await scan();
      expect(report.directives[0]?.model).toBe("grok-imagine/text-to-image-standard");
    } finally {
      await rm(file);
    }
  });

  it("follows the config's root, and its envDir for .env files", async () => {
    await mkdir(path.join(root, "site", "src"), { recursive: true });
    await mkdir(path.join(root, "secrets"));
    await writeFile(path.join(root, "site", "src", "a.js"), 'import a from "grok:a paper crane";\n');
    await writeFile(path.join(root, "secrets", ".env"), "GROK_IMAGE_CACHE_DIR=from-env-dir\n");
    await writeFile(
      path.join(root, "configs", "rooted.config.mjs"),
      'import { grokImage } from "vite-plugin-grok-image";\n' +
        'export default { root: "site", envDir: "../secrets", plugins: [grokImage({ tier: "pro" })] };\n',
    );
    const c = capture();
    expect(await runCli(["scan", "--config", "configs/rooted.config.mjs"], c.io)).toBe(0);
    expect(c.err).toContain("using the root site set in rooted.config.mjs");
    const { report } = await scan("--config", "configs/rooted.config.mjs");
    expect(report.root).toBe(path.join(root, "site"));
    expect(report.cacheDir).toBe(path.join(root, "site", "from-env-dir"));
    expect(report.directives.map((d) => [d.file, d.model])).toEqual([["src/a.js", PRO]]);
  });

  it("plans the Markdown under an Astro config's srcDir, as the integration does, and not that under src/", async () => {
    const site = path.join(root, "astro-site");
    await mkdir(path.join(site, "app", "content"), { recursive: true });
    await mkdir(path.join(site, "src"), { recursive: true });
    await writeFile(
      path.join(site, "app", "content", "post.md"),
      "# Post\n\n![A robot](<grok:a tin robot>)\n",
    );
    await writeFile(path.join(site, "src", "notes.md"), "![Not the site's](grok:a draft never rendered)\n");
    await writeFile(
      path.join(site, "astro.config.mjs"),
      'export default { srcDir: "./app", integrations: [{ name: "astro-grok-image", hooks: {}, options: {} }] };\n',
    );
    const { report } = await scan(site);
    expect(report.directives.map((d) => [d.file, d.directive])).toEqual([
      ["app/content/post.md", "grok:a tin robot"],
    ]);
    // With no config to say where the site's sources are, `src/` is.
    const { report: bare } = await scan(site, "--no-config");
    expect(bare.directives.map((d) => d.file)).toEqual(["src/notes.md"]);
  });

  it("says so when the config does not use the plugin", async () => {
    await writeFile(path.join(root, "configs", "plain.config.mjs"), "export default { plugins: [] };\n");
    const c = capture();
    expect(await runCli(["scan", "--config", "configs/plain.config.mjs"], c.io)).toBe(0);
    expect(c.err).toContain("plain.config.mjs does not use vite-plugin-grok-image");
  });

  it("a config that does not load, or does not exist, is a usage error that never shows the key", async () => {
    await writeFile(
      path.join(root, "configs", "broken.config.mjs"),
      `export default { plugins: [grokImage({ apiKey: "${KEY}" }) };\n`,
    );
    const broken = capture();
    expect(await runCli(["generate", "--config", "configs/broken.config.mjs"], broken.io)).toBe(2);
    expect(broken.err).toMatch(/Could not load .*broken\.config\.mjs: \[PARSE_ERROR\] Expected .*\n/);
    expect(broken.err).toContain("--no-config");

    const missing = capture();
    expect(await runCli(["scan", "--config", "nope.config.mjs"], missing.io)).toBe(2);
    expect(missing.err).toContain("nope.config.mjs (--config) does not exist");

    const bare = capture();
    expect(await runCli(["scan", "--config"], bare.io)).toBe(2);
  });

  it("never printed the API key", () => {
    expect(printed.join("")).not.toContain(KEY);
  });
});

describe("the names the config is searched for", () => {
  it("are the ones the plugin and the integration register", async () => {
    const { PLUGIN_NAME } = await import("../vite/plugin.js");
    const { INTEGRATION_NAME } = await import("../../../astro-integration/src/integration.js");
    expect(VITE_PLUGIN_NAME).toBe(PLUGIN_NAME);
    expect(ASTRO_INTEGRATION_NAME).toBe(INTEGRATION_NAME);
  });
});
