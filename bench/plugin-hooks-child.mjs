// `node bench/plugin-hooks-child.mjs '<json>'`: the grok-image plugin's build hooks, as `astro build` calls them on
// the grok site of site-build.ts, without Astro: `configResolved`, `buildStart`, `transform` of every page (the code
// the plugin received in a real build of the site, captured to `pages`), `buildEnd` and `closeBundle`. Counted
// under callgrind by site-build.ts (`"hooks"`), it gives the plugin's own work on a cached build with none of the
// bundler's. Its counts spread by tens of millions of instructions from run to run (where the collector's work
// falls against the plan's reads and timers), where whole builds of a site spread by hundreds (mostly the
// collector's timing in a heap of a few hundred megabytes).
//
// The JSON is `{ root, pages, phase }`: the site's root, the captured inputs (page id to code), and how far to go
// (`"load"`: the plugin's modules and `configResolved` only, the part every Astro build with the integration pays;
// `"plan"`: and the build's plan, with no page transformed; `"all"`, the default). The environment holds the key.
//
// JavaScript, not TypeScript like the rest of bench/: Node strips a `.ts` file's types with a WebAssembly module it
// compiles in the process, and under callgrind that compilation alone read 65 to 115 million instructions from one
// run to the next, more than the plan's own work moves.
import { readFileSync } from "node:fs";
import { join } from "node:path";
// The entry the Astro integration imports: the bundle that ships.
import { grokImage } from "../packages/vite-plugin/dist/bundle/index.js";

/** @typedef {(this: unknown, ...args: unknown[]) => unknown} Hook */

/** @type {{ root: string, pages: string, phase?: "load" | "plan" | "all" }} */
const { root, pages, phase = "all" } = JSON.parse(process.argv[2] ?? "{}");
/** @type {[string, string][]} */
const inputs = Object.entries(JSON.parse(readFileSync(pages, "utf8")));
const silent = { info() {}, warn() {}, error() {} };
// As the integration creates it (astro-integration `src/integration.ts`).
/** @type {Record<string, unknown>} */
const plugin = /** @type {any} */ (
  grokImage(
    {},
    { imageImport: "metadata", markdownRoots: [join(root, "src")], logger: silent, host: "astro" },
  )
);
/** @type {(value: unknown) => Hook} */
const hook = (value) =>
  typeof value === "function" ? value : /** @type {{ handler: Hook }} */ (value).handler;
const context = {
  /** @param {unknown} error @returns {never} */
  error(error) {
    throw error;
  },
  warn() {},
  environment: { name: "ssr" },
};
const viteLogger = {
  ...silent,
  warnOnce() {},
  clearScreen() {},
  hasErrorLogged: () => false,
  hasWarned: false,
};

hook(plugin.config).call(context, {}, { command: "build", mode: "production" });
hook(plugin.configResolved).call(context, {
  command: "build",
  mode: "production",
  root,
  envDir: false,
  plugins: [],
  server: { fs: { allow: [root] } },
  build: { outDir: "dist" },
  logger: viteLogger,
});
if (phase !== "load") {
  await hook(plugin.buildStart).call(context);
  for (const [id, code] of phase === "all" ? inputs : []) {
    const result = /** @type {{ code: string } | null} */ (
      await hook(plugin.transform).call(context, code, join(root, id))
    );
    // Every page's directives are cached hits, so every one is written into its page.
    if (!result || result.code.includes('from "grok:')) throw new Error(`${id}: a directive was not inlined`);
  }
  await hook(plugin.buildEnd).call(context);
  await hook(plugin.closeBundle).call(context);
}
