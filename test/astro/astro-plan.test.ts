import { readFile, writeFile } from "node:fs/promises";
import { build } from "astro";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type AstroEmulator, startAstroEmulator } from "../helpers/astro-emulator.js";
import { type TempProject, tempProjects } from "../helpers/temp-project.js";

/*
 * The whole-build plan in Astro: pages, Markdown, MDX and content collection fields are all known, validated and
 * checked before the first paid submit, and one report names every problem of the build.
 */

let api: AstroEmulator;
const projects = tempProjects();
const copyFixture = () => projects.copy("astro-content", { inRepository: true });

beforeAll(async () => {
  api = await startAstroEmulator();
});

afterAll(async () => {
  await api?.close();
  await projects.removeAll();
});

async function edit(project: TempProject, file: string, change: (text: string) => string): Promise<void> {
  const at = project.resolve(file);
  await writeFile(at, change(await readFile(at, "utf8")));
}

async function buildFailure(project: TempProject): Promise<Error & { code?: string }> {
  const error = await build({ root: project.root, logLevel: "silent" }).then(
    () => undefined,
    (e: unknown) => e as Error & { code?: string },
  );
  if (!error) throw new Error("the build succeeded but should have failed");
  return error;
}

describe("astro build: one plan before anything is paid", () => {
  test("bad directives in Markdown, MDX and a content collection field fail together, with nothing submitted", async () => {
    const project = await copyFixture();
    await edit(project, "src/content/notes/harbour.md", (text) =>
      text
        .replace(
          'cover: "grok:a lighthouse on a cliff?w=400"',
          'cover: "grok:a lighthouse on a cliff?w=400&fit=round"',
        )
        .replace("# The harbour\n", "# The harbour\n\n![pines](grok:pines in fog?with=960)\n"),
    );
    await edit(project, "src/content/notes/meadow.mdx", (text) =>
      text.replace("# The meadow\n", "# The meadow\n\n![a kite](grok:a%20kite?tier=ultra)\n"),
    );
    const before = api.requests();
    const error = await buildFailure(project);
    expect(api.emulator.counters.submits).toBe(0);
    expect(api.requests() - before).toBe(0);
    const message = error.message;
    // Each bad directive with its file, line and column, what is wrong, and what is accepted.
    expect(message).toContain("src/content/notes/harbour.md:3:");
    expect(message).toMatch(/fit[\s\S]*cover, contain, inside, outside, fill/);
    expect(message).toContain("src/content/notes/harbour.md:8:");
    expect(message).toContain("grok:pines in fog?with=960");
    expect(message).toContain('"w"');
    expect(message).toContain("src/content/notes/meadow.mdx:7:");
    expect(message).toContain("lite, standard, pro");
  });

  test("a frozen build lists every miss of pages, Markdown, MDX and collection fields in one report", async () => {
    const project = await copyFixture();
    process.env.GROK_IMAGE_MODE = "frozen";
    try {
      const before = api.requests();
      const error = await buildFailure(project);
      expect(api.requests() - before).toBe(0);
      expect(error.message).toContain("GROK_FROZEN_MISS");
      expect(error.message.split("missing from the cache")).toHaveLength(2);
      // Each as written, where it is, and what it would cost.
      expect(error.message).toContain(
        "grok:a lighthouse on a cliff?w=400  (in src/content/notes/harbour.md:3:9)",
      );
      expect(error.message).toContain(
        "grok:a%20harbour%20at%20dusk?w=300  (in src/content/notes/harbour.md:8:",
      );
      expect(error.message).toContain(
        "grok:a fishing boat & its nets?w=200&format=png  (in src/content/notes/harbour.md:",
      );
      expect(error.message).toContain(
        "grok:a%20meadow%20in%20spring?w=160  (in src/content/notes/meadow.mdx:7:13)",
      );
      expect(error.message.match(/\$0\.001/g)).toHaveLength(4);
    } finally {
      process.env.GROK_IMAGE_MODE = "generate";
    }
  });

  test("a build without a key lists every miss once, with where it is written, and asks for nothing", async () => {
    const project = await copyFixture();
    const key = process.env.MAXAPI_KEY;
    delete process.env.MAXAPI_KEY;
    try {
      const before = api.requests();
      const error = await buildFailure(project);
      expect(api.requests() - before).toBe(0);
      expect(error.message).toContain("GROK_NO_API_KEY");
      expect(error.message.split("no MaxAPI key is set")).toHaveLength(2);
      expect(error.message).toContain("(in src/content/notes/harbour.md:3:9)");
      expect(error.message).toContain("(in src/content/notes/meadow.mdx:7:13)");
      expect(error.message.match(/\$0\.001/g)).toHaveLength(4);
    } finally {
      process.env.MAXAPI_KEY = key;
    }
  });
});
