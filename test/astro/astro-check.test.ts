import { spawn } from "node:child_process";
import { readFile, rm, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type AstroProject, copyAstroProject } from "../helpers/astro-fixture.ts";

const ASTRO_BIN = fileURLToPath(new URL("../node_modules/astro/bin/astro.mjs", import.meta.url));

let project: AstroProject;

beforeAll(async () => {
  project = await copyAstroProject("astro-basic");
});

afterAll(async () => {
  await project?.remove();
});

/** Runs the real `astro check` (which runs `astro sync` first, and with it the integration's hooks). */
function astroCheck(root: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ASTRO_BIN, "check", "--root", root], {
      cwd: root,
      // No API key, no emulator: type checking must not need either.
      env: { ...process.env, ASTRO_TELEMETRY_DISABLED: "1", CI: "true", NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk;
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

describe("astro check", () => {
  test("passes on a site importing `grok:` modules, with no hand-written declaration", async () => {
    const { code, output } = await astroCheck(project.root);
    expect(output).toMatch(/0 errors/);
    expect(code, output).toBe(0);
    const injected = await readFile(
      project.file(".astro", "integrations", "astro-grok-image", "types.d.ts"),
      "utf8",
    );
    expect(injected).toContain("astro-grok-image/client");
  });

  test("fails once the injected types are gone", async () => {
    // Without the previous run's generated declarations, so only what this run injects counts.
    await rm(project.file(".astro"), { recursive: true, force: true });
    const config = await readFile(project.file("astro.config.mjs"), "utf8");
    await writeFile(
      project.file("astro.config.mjs"),
      config.replace(
        "grokImage({ concurrency: 4 })",
        '(() => { const i = grokImage({ concurrency: 4 }); delete i.hooks["astro:config:done"]; return i; })()',
      ),
    );
    const { code, output } = await astroCheck(project.root);
    expect(code).not.toBe(0);
    expect(output).toMatch(/Cannot find module 'grok:a misty forest at dawn'/);
  });
});
