import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { promisify } from "node:util";
import type { Emulator } from "maxapi-emulator";
import sharp from "sharp";
import { build, type InlineConfig } from "vite";
import { grokImage } from "vite-plugin-grok-image";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureLogger } from "../helpers/capture-logger.js";
import { listFiles } from "../helpers/dist-files.js";
import { type TempProject, tempProject } from "../helpers/temp-project.js";
import { grokTestOptions, startTestEmulator } from "../helpers/with-emulator.js";

/*
 * A variant in `.grok-images/variants/` overwritten with random bytes of its own size (bit rot, a bad restore of a
 * CI cache) passes a size check. The build must still never ship it: the rebuild derives it again from the verified
 * original, for free, says so, and `grok-image verify` reports it beforehand.
 */

const run = promisify(execFile);
const bin = path.join(
  path.dirname(createRequire(import.meta.url).resolve("vite-plugin-grok-image/package.json")),
  "dist",
  "cli",
  "main.js",
);

let emulator: Emulator;
let project: TempProject;

function config(outDir: string, logger = captureLogger()): InlineConfig {
  return {
    root: project.resolve(),
    configFile: false,
    logLevel: "silent",
    customLogger: logger,
    plugins: [grokImage(grokTestOptions(emulator))],
    build: { outDir, emptyOutDir: true },
  };
}

const variantsDir = () => project.resolve(".grok-images", "variants");

async function variantFiles(): Promise<string[]> {
  return (await readdir(variantsDir())).filter((name) => !name.endsWith(".json")).sort();
}

/** Runs `grok-image verify`; resolves with its exit code and output (it exits 1 on damage). */
async function verify(): Promise<{ code: number; stdout: string }> {
  const args = [bin, "verify", project.root, "--no-config"];
  try {
    const { stdout } = await run(process.execPath, args, { env: { PATH: process.env.PATH ?? "" } });
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? "" };
  }
}

beforeAll(async () => {
  emulator = await startTestEmulator();
  project = await tempProject("vite-basic");
  await build(config(project.resolve("dist")));
});

afterAll(async () => {
  await emulator?.close();
  await project?.remove();
});

describe("a damaged cached variant", () => {
  it("is reported by verify, derived again for free by the next build, and never shipped", async () => {
    const names = await variantFiles();
    expect(names.length).toBeGreaterThan(0);
    const intact = new Map<string, Buffer>();
    for (const name of names) {
      const file = path.join(variantsDir(), name);
      intact.set(name, await readFile(file));
      await writeFile(file, randomBytes((await stat(file)).size));
    }

    const before = await verify();
    expect(before.code).toBe(1);
    for (const name of names) expect(before.stdout).toContain(`${name} does not match its sha256`);

    const requests = { ...emulator.counters };
    const logger = captureLogger();
    const dist = project.resolve("dist-again");
    await build(config(dist, logger));

    const { submits, queries, downloads } = emulator.counters;
    expect({ submits, queries, downloads }).toEqual({
      submits: requests.submits,
      queries: requests.queries,
      downloads: requests.downloads,
    });
    const warnings = logger.warnings.join("\n");
    for (const name of names) {
      expect(warnings).toContain(`${name} of grok:`);
      expect(warnings).toMatch(
        new RegExp(`${name} of grok:[^\\n]* does not match its sha256; deriving it again`),
      );
    }

    const images = (await listFiles(dist)).filter((f) => /\.(?:webp|avif|png|jpe?g)$/.test(f));
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) {
      // Every pixel, not just the header: random bytes can start like anything.
      const decoded = await sharp(path.join(dist, image), { failOn: "error" })
        .raw()
        .toBuffer({ resolveWithObject: true })
        .catch((error: unknown) => error);
      expect(decoded, image).not.toBeInstanceOf(Error);
    }
    // Derived again from the same originals, with the same settings: the very bytes that were there before.
    for (const name of names) {
      expect((await readFile(path.join(variantsDir(), name))).equals(intact.get(name) as Buffer), name).toBe(
        true,
      );
    }
    expect((await verify()).code).toBe(0);
  });
});
