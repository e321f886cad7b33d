/*
 * Fixture projects copied into a fresh temporary directory, so a build can write its output and its cache
 * without touching the repository. Shared by the Vite and Astro suites.
 */
import { cp, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** `test/fixtures/`. */
export const FIXTURES_DIR = fileURLToPath(new URL("../fixtures/", import.meta.url));

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
   * Directory the copy is created in. @default os.tmpdir()
   * Pick a directory inside the repository (e.g. `test/.tmp`, git-ignored) when the project must resolve
   * packages from the workspace's `node_modules`, as an Astro project does.
   */
  parent?: string;
}

/** Copies `test/fixtures/<fixture>` (without its `node_modules`, `dist` and cache) into a new temp directory. */
export async function tempProject(fixture: string, options: TempProjectOptions = {}): Promise<TempProject> {
  const source = path.join(FIXTURES_DIR, fixture);
  const root = await mkdtemp(path.join(options.parent ?? os.tmpdir(), `grok-${fixture}-`));
  const skipped = new Set(["node_modules", "dist", ".grok-images"]);
  await cp(source, root, {
    recursive: true,
    filter: (file) => !skipped.has(path.basename(file)),
  });
  return {
    root,
    resolve: (...segments) => path.join(root, ...segments),
    // Retries ride out a dev server that is still finishing a write when the test ends.
    remove: () => rm(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 }),
  };
}
