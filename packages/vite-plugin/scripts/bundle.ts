// Bundles the package's runtime entries (the plugin, `./markdown`, `./provenance`) into `dist/bundle/`, which
// `exports` points at; `tsc -b` still writes the declarations (and a module per file, for the repository's own
// benchmarks). Why: Node loads an ES module per file, and each costs resolution, a read and a link. The plugin's
// sixty-odd modules took about 18 ms to load at the start of every `vite build` and `astro build`, a bundle of a
// few chunks about 6 ms, on sites whose cached build takes little more than a second. What only a miss, the dev
// server or a shared cache needs stays in chunks of its own, loaded by the dynamic imports that ask for them.
import { isAbsolute } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "rolldown";

const root = fileURLToPath(new URL("..", import.meta.url));

await build({
  cwd: root,
  input: {
    index: "src/index.ts",
    markdown: "src/directive/unescape-markdown.ts",
    provenance: "src/image/xmp/index.ts",
  },
  platform: "node",
  // Dependencies and Node's modules stay imports: only this package's own files are bundled.
  external: (id) => !id.startsWith(".") && !isAbsolute(id),
  // The sources import each other as `./x.js`, as Node's ES modules require of the emitted files.
  resolve: { extensionAlias: { ".js": [".ts", ".js"] } },
  tsconfig: "tsconfig.json",
  output: {
    // One folder below `dist/`, like the sources' own rooms: `../browser/client/` (the dev client's code) and
    // `../../package.json` (the version in the user agent) resolve from a chunk as they do from its source.
    dir: "dist/bundle",
    format: "esm",
    sourcemap: true,
    chunkFileNames: "[name]-[hash].js",
    // Chunk names carry hashes: a rebuild must not leave the last one's chunks beside its own.
    cleanDir: true,
  },
  logLevel: "warn",
});
