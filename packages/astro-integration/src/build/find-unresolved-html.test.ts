import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { findUnresolvedHtml, findUnresolvedIn } from "./find-unresolved-html.js";

describe("findUnresolvedIn", () => {
  test("flags image attributes that still hold a directive, a specifier or Astro's placeholder", () => {
    const html = [
      '<img src="grok:a fox" alt="">',
      `<img src='@grok-image/markdown/Z3Jvazp4.webp' alt="">`,
      '<img __ASTRO_IMAGE_="{&quot;src&quot;:&quot;x&quot;}">',
      '<img src="/_astro/fox.webp" alt="a fox, from grok:">',
    ].join("\n");
    expect(findUnresolvedIn(html).map((f) => f.kind)).toEqual(["attribute", "attribute", "attribute"]);
  });

  test("flags Markdown image syntax left in the page's text, even split by an alt's formatting", () => {
    const html = [
      "<p>Before ![a spaced alt](grok:a misty forest at dawn?w=120) after</p>",
      "<p>![a <em>big</em> fox](grok:a big fox)</p>",
      "<p>![angle](&lt;grok:an angle\none&gt;)</p>",
    ].join("\n");
    expect(findUnresolvedIn(html)).toEqual([
      { kind: "text", tag: "![a spaced alt](grok:a misty forest at dawn?w=120)" },
      { kind: "text", tag: "![a big fox](grok:a big fox)" },
      { kind: "text", tag: "![angle](&lt;grok:an angle" },
    ]);
  });

  test("does not flag the syntax shown in code, scripts or comments, or prose that mentions `grok:`", () => {
    const html = [
      "<p>Images are plain <code>![alt](grok:...)</code> syntax.</p>",
      "<pre><code>![fenced](grok:a misty forest)\n</code></pre>",
      '<script type="application/json">{"x":"![a](grok:b c)"}</script>',
      "<!-- ![a](grok:commented) -->",
      "<p>Write grok: directives, or ![an image](./local.png) in brackets.</p>",
      '<img src="/_astro/x.webp" alt="![a](grok:in an attribute)">',
    ].join("\n");
    expect(findUnresolvedIn(html)).toEqual([]);
  });
});

describe("findUnresolvedHtml", () => {
  let outDir: string;
  beforeEach(async () => {
    outDir = await mkdtemp(path.join(tmpdir(), "grok-unresolved-"));
  });
  afterEach(async () => {
    await rm(outDir, { recursive: true, force: true });
  });

  test("leaves out the folder of the build's hashed files, and only that folder", async () => {
    for (const dir of ["_astro", "_astro/nested", "pages/_astro", "static"]) {
      await mkdir(path.join(outDir, dir), { recursive: true });
      await writeFile(path.join(outDir, dir, "index.html"), '<img src="grok:left" alt="">');
    }
    const pages = async (assets?: string) =>
      (await findUnresolvedHtml(outDir, assets)).map((found) => found.page);
    expect(await pages("_astro")).toEqual(["pages/_astro/index.html", "static/index.html"]);
    expect(await pages("./_astro/")).toEqual(["pages/_astro/index.html", "static/index.html"]);
    expect(await pages("_astro/nested")).toEqual([
      "_astro/index.html",
      "pages/_astro/index.html",
      "static/index.html",
    ]);
    // The output folder itself, or one outside it, is no assets folder to skip.
    for (const assets of [undefined, "", ".", "../_astro"]) expect(await pages(assets)).toHaveLength(4);
  });

  test("reads every HTML file under the output directory, naming each page", async () => {
    await mkdir(path.join(outDir, "post"), { recursive: true });
    await writeFile(path.join(outDir, "index.html"), '<p>fine</p><img src="/_astro/a.webp" alt="">');
    await writeFile(path.join(outDir, "post", "index.html"), "<p>![a](grok:a misty forest)</p>");
    await writeFile(path.join(outDir, "notes.txt"), "![a](grok:not html)");
    expect(await findUnresolvedHtml(outDir)).toEqual([
      { page: "post/index.html", kind: "text", tag: "![a](grok:a misty forest)" },
    ]);
  });
});
