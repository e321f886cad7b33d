// Bundles the runtime entries of this package and of the Astro integration that wraps it, which their `exports`
// point at; `tsc -b` still writes the declarations (and a module per file, for the repository's own benchmarks and
// the CLI). Why: Node loads an ES module per file, and each costs resolution, a read and a link. The plugin's
// sixty-odd modules took about 18 ms to load at the start of every `vite build` and `astro build`, a bundle of a
// few chunks about 6 ms, on sites whose cached build takes little more than a second; the integration's thirteen
// took about 3 ms more. What only a miss, the dev server or a shared cache needs stays in chunks of its own,
// loaded by the dynamic imports that ask for them. Runs from here because this package has the bundler.
import { isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type OutputOptions } from "rolldown";

const packages = fileURLToPath(new URL("../..", import.meta.url));

async function bundle(
  name: string,
  input: Record<string, string>,
  output: Pick<OutputOptions, "dir" | "entryFileNames" | "chunkFileNames" | "cleanDir">,
): Promise<void> {
  const root = join(packages, name);
  await build({
    cwd: root,
    input,
    platform: "node",
    // Dependencies and Node's modules stay imports: only the package's own files are bundled.
    external: (id) => !id.startsWith(".") && !isAbsolute(id),
    // The sources import each other as `./x.js`, as Node's ES modules require of the emitted files.
    resolve: { extensionAlias: { ".js": [".ts", ".js"] } },
    tsconfig: "tsconfig.json",
    output: { format: "esm", sourcemap: true, ...output },
    logLevel: "warn",
  });
}

await bundle(
  "vite-plugin",
  {
    index: "src/index.ts",
    markdown: "src/directive/unescape-markdown.ts",
    provenance: "src/image/xmp/index.ts",
  },
  {
    // One folder below `dist/`, like the sources' own rooms: `../browser/client/` (the dev client's code) and
    // `../../package.json` (the version in the user agent) resolve from a chunk as they do from its source.
    dir: "dist/bundle",
    chunkFileNames: "[name]-[hash].js",
    // Chunk names carry hashes: a rebuild must not leave the last one's chunks beside its own.
    cleanDir: true,
  },
);

await bundle(
  "astro-integration",
  {
    index: "src/index.ts",
    content: "src/content/grok-image-schema.ts",
    "image-service": "src/image-service/image-service.ts",
  },
  {
    // Beside `tsc`'s files, as `src/index.ts` is beside its rooms: `./toolbar/` (the Dev Toolbar app's code, which
    // `tsconfig.client.json` writes) resolves from the bundle as it does from the source. Names without hashes,
    // so a rebuild replaces its files rather than adding to them.
    dir: "dist",
    entryFileNames: "[name].bundle.js",
    chunkFileNames: "[name].bundle.js",
  },
);
