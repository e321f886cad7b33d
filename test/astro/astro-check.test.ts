import { readFile, rm, writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { astroCheckLoads, astroEnv, runAstro, runTsc } from "../helpers/astro-cli.js";
import { type TempProject, tempProject } from "../helpers/temp-project.js";

let project: TempProject;

beforeAll(async () => {
  project = await tempProject("astro-basic", { inRepository: true });
});

afterAll(async () => {
  await project?.remove();
});

/** Runs the integration's hooks the way `astro check` does (`astro sync`), without an API key or an emulator. */
function astroSync(root: string) {
  return runAstro(["sync", "--root", root], root, astroEnv({ CI: "true" }));
}

/** The same fixture, with the integration's `astro:config:done` hook (the one that injects the types) removed. */
async function removeInjectedTypes(root: string): Promise<void> {
  await rm(`${root}/.astro`, { recursive: true, force: true });
  const configFile = `${root}/astro.config.mjs`;
  const config = await readFile(configFile, "utf8");
  if (config.includes("delete i.hooks")) return;
  const patched = config.replace(
    "grokImage({ concurrency: 4 })",
    '(() => { const i = grokImage({ concurrency: 4 }); delete i.hooks["astro:config:done"]; return i; })()',
  );
  expect(patched).not.toBe(config);
  await writeFile(configFile, patched);
}

describe("types of `grok:` modules", () => {
  test("`astro sync` injects them, and `tsc` accepts a site using them with no hand-written declaration", async () => {
    const sync = await astroSync(project.root);
    expect(sync.code, sync.output).toBe(0);
    const injected = await readFile(
      project.resolve(".astro", "integrations", "astro-grok-image", "types.d.ts"),
      "utf8",
    );
    expect(injected).toContain("astro-grok-image/client");
    const result = runTsc(project.root);
    expect(result.status, result.stdout + result.stderr).toBe(0);
  });

  test.runIf(astroCheckLoads())(
    "`astro check` passes, and fails once the injected types are gone",
    async () => {
      const passing = await runAstro(
        ["check", "--root", project.root],
        project.root,
        astroEnv({ CI: "true" }),
      );
      expect(passing.code, passing.output).toBe(0);
      await removeInjectedTypes(project.root);
      const failing = await runAstro(
        ["check", "--root", project.root],
        project.root,
        astroEnv({ CI: "true" }),
      );
      expect(failing.code).not.toBe(0);
      expect(failing.output).toMatch(/Cannot find module 'grok:a misty forest at dawn'/);
    },
  );

  test("`tsc` fails once the injected types are gone", async () => {
    await removeInjectedTypes(project.root);
    const sync = await astroSync(project.root);
    expect(sync.code, sync.output).toBe(0);
    const result = runTsc(project.root);
    expect(result.status).not.toBe(0);
    expect(result.stdout).toMatch(/Cannot find module 'grok:a misty forest at dawn'/);
  });
});
