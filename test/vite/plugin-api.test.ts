import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfigFromFile, type Plugin } from "vite";
import type { GrokImageOptions } from "vite-plugin-grok-image";
import { afterAll, describe, expect, it } from "vitest";

// Inside the repository, so the config can import the workspace's plugin (see TempProjectOptions.inRepository).
const TMP = fileURLToPath(new URL("../.tmp/", import.meta.url));
let dir: string | undefined;

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("plugin.api", () => {
  it("gives tools the options of the project's vite.config as written", async () => {
    await mkdir(TMP, { recursive: true });
    dir = await mkdtemp(path.join(TMP, "grok-plugin-api-"));
    const file = path.join(dir, "vite.config.mjs");
    await writeFile(
      file,
      [
        'import { grokImage } from "vite-plugin-grok-image";',
        'export default { plugins: [grokImage({ tier: "pro", maxCost: 2, cacheDir: "images-cache" })] };',
        "",
      ].join("\n"),
    );
    const loaded = await loadConfigFromFile({ command: "build", mode: "production" }, file, dir, "silent");
    const plugin = loaded?.config.plugins
      ?.flat()
      .find(
        (p): p is Plugin<{ userOptions: GrokImageOptions }> =>
          !!p && "name" in p && p.name === "vite-plugin-grok-image",
      );
    expect(plugin?.api?.userOptions).toEqual({ tier: "pro", maxCost: 2, cacheDir: "images-cache" });
  });
});
