// `node build-listing-modules.mjs '<json>'`: runs one `vite build` with the grok-image plugin in this fresh process
// and prints, as the last line of stdout, the URL of every module the process loaded, so a test can check what a
// build pulled in (a cached build must not load the HTTP client or sharp). The JSON is `{ root, options }`.
import { registerHooks } from "node:module";

const loaded = [];
registerHooks({
  load(url, context, nextLoad) {
    loaded.push(url);
    return nextLoad(url, context);
  },
});

const { root, options } = JSON.parse(process.argv[2]);
const { build } = await import("vite");
const { grokImage } = await import("vite-plugin-grok-image");
await build({
  root,
  configFile: false,
  logLevel: "silent",
  plugins: [grokImage(options)],
  build: { outDir: "dist", emptyOutDir: true },
});
process.stdout.write(`${JSON.stringify(loaded)}\n`);
