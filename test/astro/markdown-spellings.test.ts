import { readFile } from "node:fs/promises";
import path from "node:path";
import { build } from "astro";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type AstroEmulator, startAstroEmulator } from "../helpers/astro-emulator.js";
import { builtImageReferences } from "../helpers/astro-html.js";
import { type TempProject, tempProject } from "../helpers/temp-project.js";

/*
 * One `.md` page and one `.mdx` page write each prompt in every spelling (literal spaces, `<…>`, `%20`, with and
 * without a title), with Astro's default smartypants on; `index.astro` imports the same prompts. Every spelling must
 * be one generation, and the prompt the API receives must be the one written: straight quotes, `--`, `...`.
 */
const PROMPTS = [
  "a sailor's lantern",
  'a "quiet" harbour at night',
  "a storm -- then calm --- at dawn",
  "the road goes on...",
];
/** Spellings per prompt on each Markdown page (see the fixture). */
const SPELLINGS = 12;

let api: AstroEmulator;
let project: TempProject;

beforeAll(async () => {
  api = await startAstroEmulator();
  project = await tempProject("astro-markdown-spellings", { inRepository: true });
  await build({ root: project.root, logLevel: "warn" });
});

afterAll(async () => {
  await api?.close();
  await project?.remove();
});

const page = (name: string) => readFile(project.resolve("dist", name), "utf8");

const ENTITIES: Readonly<Record<string, string>> = {
  "&quot;": '"',
  "&#34;": '"',
  "&#39;": "'",
  "&amp;": "&",
};
const decode = (text: string) =>
  text.replace(/&(?:quot|#34|#39|amp);/g, (entity) => ENTITIES[entity] ?? entity);

/** The decoded values of one attribute on every `<img>` of a page. */
function attributes(html: string, name: string): string[] {
  return [...html.matchAll(new RegExp(`<img\\b[^>]*\\s${name}="([^"]*)"`, "g"))].map(([, v]) =>
    decode(v ?? ""),
  );
}

describe("astro build of every spelling of a Markdown directive, with smartypants", () => {
  test("the API receives one submit per distinct prompt, the prompt byte-equal to what was written", () => {
    expect(api.emulator.counters.submitsByPrompt).toEqual(Object.fromEntries(PROMPTS.map((p) => [p, 1])));
    expect(api.emulator.counters.submits).toBe(PROMPTS.length);
  });

  test("each spelling on the Markdown and MDX pages became the same image as the others", async () => {
    const references = await builtImageReferences(project.resolve("dist"));
    for (const name of ["spellings/index.html", "spellings-mdx/index.html"]) {
      const html = await page(name);
      expect(html, name).not.toMatch(/grok:|@grok-image|__ASTRO_IMAGE_|!\[/);
      const images = references.filter((r) => r.page === name && r.tag === "img");
      expect(images, name).toHaveLength(PROMPTS.length * SPELLINGS);
      for (const image of images) expect(image.url, name).toMatch(/^\/_astro\/[^/]+\.webp$/);
      // One file per prompt at its original size and one at `w=64`, whatever the spelling.
      expect(new Set(images.map((image) => image.url)).size, name).toBe(PROMPTS.length * 2);
      // An empty alt is the prompt as written; a written alt and the prose get smartypants' typography, as a
      // real image's alt does; a title is as written, as the parser reads a real image's.
      expect(new Set(attributes(html, "alt")), name).toEqual(new Set(["It’s lit", ...PROMPTS]));
      expect(new Set(attributes(html, "title")), name).toEqual(
        new Set(["A title", "A 'title'", 'A "title"']),
      );
      expect(html, name).toContain("> – it’s “done”…</p>");
    }
  });

  test("the imported images carry the prompts as written", async () => {
    const html = await page("index.html");
    const captions = [...html.matchAll(/<figcaption class="prompt"[^>]*>([^<]*)<\/figcaption>/g)].map(
      ([, text]) => decode(text ?? ""),
    );
    expect(captions).toEqual(PROMPTS);
  });

  test("the cache holds one entry per prompt, and a second build makes no API request", async () => {
    const manifest = JSON.parse(
      await readFile(path.join(project.root, ".grok-images", "manifest.json"), "utf8"),
    ) as Record<string, { prompt: string }>;
    expect(
      Object.values(manifest)
        .map((e) => e.prompt)
        .sort(),
    ).toEqual([...PROMPTS].sort());
    const before = api.requests();
    await build({ root: project.root, logLevel: "warn" });
    expect(api.requests() - before).toBe(0);
  });
});
