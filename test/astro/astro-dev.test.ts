import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type AstroDevServer, startAstroDev } from "../helpers/astro-cli.js";
import { type AstroEmulator, startAstroEmulator } from "../helpers/astro-emulator.js";
import { imageReferences } from "../helpers/astro-html.js";
import { type TempProject, tempProject } from "../helpers/temp-project.js";

let api: AstroEmulator;
let project: TempProject;
let server: AstroDevServer | undefined;
let origin: string;

beforeAll(async () => {
  api = await startAstroEmulator();
  project = await tempProject("astro-basic", { inRepository: true });
  // A real `astro dev` process (see astroEnv for why not the programmatic `dev()` inside Vitest); it inherits the
  // emulator's environment.
  server = await startAstroDev(project.root);
  origin = server.url;
});

afterAll(async () => {
  await server?.stop();
  await api?.close();
  await project?.remove();
});

/** Fetches a page and then every image it references; each must be a decodable image. */
async function expectImagesOf(pathname: string, minimum: number): Promise<void> {
  const response = await fetch(new URL(pathname, origin));
  expect(response.status, server?.output()).toBe(200);
  const html = await response.text();
  expect(html).not.toMatch(/src="grok:|@grok-image\/markdown/);
  const references = imageReferences(html, pathname);
  expect(references.length).toBeGreaterThanOrEqual(minimum);
  for (const reference of references) {
    const image = await fetch(new URL(reference.url, origin));
    expect(image.status, reference.url).toBe(200);
    expect(image.headers.get("content-type"), reference.url).toMatch(/^image\//);
    const meta = await sharp(Buffer.from(await image.arrayBuffer())).metadata();
    expect(meta.width, reference.url).toBeGreaterThan(0);
    if (reference.width) expect(meta.width, reference.url).toBe(reference.width);
  }
}

describe("astro dev", () => {
  test("a page importing `grok:` images serves them through Astro's image endpoint", async () => {
    await expectImagesOf("/", 4);
  });

  test("Markdown and MDX `grok:` images are served too", async () => {
    await expectImagesOf("/post/", 3);
    await expectImagesOf("/mdx-post/", 2);
  });
});
