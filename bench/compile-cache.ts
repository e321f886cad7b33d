// Node's compile cache, held still between measured builds. Astro's CLI turns the cache on
// (`module.enableCompileCache()`): V8's code for each module a build loads is kept on disk, and a build writes anew
// the entry of any module whose source changed since (Astro's prerender entry changes every build; the plugin's
// bundle after each rebuild) with the functions that build happened to compile. Every later build starts from that:
// a function in the entry is read, one missing is parsed and compiled again. So in one shared cache a build's work
// depended on which build last wrote each entry: counted builds of one unchanged site spread by up to 4% (12,388 to
// 12,856 million instructions), and two builds that each started from the same copy of the cache counted 12,838 and
// 12,831. Each measured build here starts from its own copy of one snapshot per site and flags, taken after builds
// of that site alone, with those flags, into an empty cache.
import { cp, mkdtemp, rm } from "node:fs/promises";
import { dirname, join } from "node:path";

/** Builds run into an empty cache to make a snapshot: the first fills it, the second settles what changes each build. */
const WARM_BUILDS = 2;

/**
 * Runs `build` `WARM_BUILDS` times, given an environment with `dir` (emptied first) as Node's compile cache,
 * leaving there the snapshot later builds start from.
 */
export async function snapshotCompileCache(
  dir: string,
  env: NodeJS.ProcessEnv,
  build: (env: NodeJS.ProcessEnv) => Promise<unknown>,
): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  for (let i = 0; i < WARM_BUILDS; i++) await build({ ...env, NODE_COMPILE_CACHE: dir });
}

/** `measure`, given an environment whose compile cache is a fresh copy of `snapshot` (removed afterwards). */
export async function withCompileCache<T>(
  snapshot: string,
  env: NodeJS.ProcessEnv,
  measure: (env: NodeJS.ProcessEnv) => Promise<T>,
): Promise<T> {
  // Beside the snapshot: on the RAM disk the sites are on, when they are.
  const live = await mkdtemp(join(dirname(snapshot), "live-"));
  try {
    await cp(snapshot, live, { recursive: true });
    return await measure({ ...env, NODE_COMPILE_CACHE: live });
  } finally {
    await rm(live, { recursive: true, force: true });
  }
}
