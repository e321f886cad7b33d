// `node bench/vite-build-child.ts '<json>'`: one `vite build` in a fresh process, as a user runs it, with the
// grok-image plugin from this repository's dist/. The JSON is `{ root, options }` (the plugin's options); the
// environment supplies MAXAPI_KEY and MAXAPI_BASE_URL. Exits non-zero when the build fails.
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { grokImage } from "../packages/vite-plugin/dist/index.js";
import type { GrokImageOptions } from "../packages/vite-plugin/dist/types.js";

const repo = fileURLToPath(new URL("..", import.meta.url));
// Vite is a dependency of the end-to-end tests, not of the repository root.
const vite = (await import(pathToFileURL(join(repo, "test/node_modules/vite/dist/node/index.js")).href)) as {
  build: (config: Record<string, unknown>) => Promise<unknown>;
};
const { root, options } = JSON.parse(process.argv[2] ?? "{}") as { root: string; options: GrokImageOptions };
await vite.build({
  root,
  configFile: false,
  logLevel: "warn",
  plugins: [grokImage(options)],
  build: { outDir: "dist", emptyOutDir: true },
});
