/*
 * Projects copied into a fresh temporary directory, so a build can write its output and its cache without touching
 * the repository. Shared by the Vite and Astro suites.
 */
import { cp, mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const FIXTURES_DIR = path.join(REPO_ROOT, "test/fixtures");
/** Git-ignored; inside the repository, so a copy there resolves the workspace's packages. */
const REPO_TMP_DIR = path.join(REPO_ROOT, "test/.tmp");

/** Build output, caches and installed packages: never copied. */
const SKIPPED = new Set(["node_modules", "dist", ".astro", ".grok-images"]);

export interface TempProject {
  /** Absolute path of the copy. */
  readonly root: string;
  /** Absolute path inside the copy. */
  resolve(...segments: string[]): string;
  /** Removes the copy. Safe to call twice. */
  remove(): Promise<void>;
}

export interface TempProjectOptions {
  /**
   * Copy into `test/.tmp/` (git-ignored) instead of the OS temp directory, so the project resolves packages from
   * the workspace's `node_modules`, as an Astro project (which loads its own config) must. @default false
   */
  inRepository?: boolean;
}

/**
 * Copies a fixture (`test/fixtures/<source>`) or any folder of the repository (`examples/astro-site`) into a new
 * temp directory, without its build output, caches or installed packages.
 */
export async function tempProject(source: string, options: TempProjectOptions = {}): Promise<TempProject> {
  const from = path.join(source.includes("/") ? REPO_ROOT : FIXTURES_DIR, source);
  const parent = options.inRepository ? REPO_TMP_DIR : os.tmpdir();
  await mkdir(parent, { recursive: true });
  const root = await mkdtemp(path.join(parent, `grok-${path.basename(from)}-`));
  await cp(from, root, { recursive: true, filter: (file) => !SKIPPED.has(path.basename(file)) });
  return {
    root,
    resolve: (...segments) => path.join(root, ...segments),
    // Retries ride out a dev server that is still finishing a write when the test ends. `test/.tmp/` itself stays:
    // removing it when it looks empty races with other test files creating their projects there in parallel.
    remove: () => rm(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 }),
  };
}

/** Every copy made through it, removed together (in `afterEach` or `afterAll`). */
export interface TempProjects {
  copy(source: string, options?: TempProjectOptions): Promise<TempProject>;
  removeAll(): Promise<void>;
}

export function tempProjects(): TempProjects {
  const created: TempProject[] = [];
  return {
    async copy(source, options) {
      const project = await tempProject(source, options);
      created.push(project);
      return project;
    },
    async removeAll() {
      await Promise.all(created.splice(0).map((project) => project.remove()));
    },
  };
}
