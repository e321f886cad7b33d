import { cp, mkdir, mkdtemp, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Temp projects live under `test/.tmp/` so they resolve `astro`, `@astrojs/mdx` and the workspace packages. */
const TMP_ROOT = fileURLToPath(new URL("../.tmp/", import.meta.url));
const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

const SKIPPED = new Set(["node_modules", "dist", ".astro", ".grok-images"]);

export interface AstroProject {
  /** Absolute path of the copy. */
  readonly root: string;
  /** Absolute path inside the copy. */
  file(...segments: string[]): string;
  /** Removes the copy. */
  remove(): Promise<void>;
}

/**
 * A fresh copy of a fixture (`test/fixtures/<name>`) or of any folder of the repository (`examples/astro-site`),
 * without its build output, caches or installed packages.
 */
export async function copyAstroProject(source: string): Promise<AstroProject> {
  const from = source.includes("/")
    ? path.join(REPO_ROOT, source)
    : path.join(REPO_ROOT, "test/fixtures", source);
  await mkdir(TMP_ROOT, { recursive: true });
  const root = await mkdtemp(path.join(TMP_ROOT, `${path.basename(from)}-`));
  await cp(from, root, {
    recursive: true,
    filter: (file) => !SKIPPED.has(path.basename(file)),
  });
  return {
    root,
    file: (...segments) => path.join(root, ...segments),
    async remove() {
      // `test/.tmp/` itself stays (git-ignored): removing it when it looks empty races with other test files
      // creating their projects there in parallel.
      await rm(root, { recursive: true, force: true });
    },
  };
}
