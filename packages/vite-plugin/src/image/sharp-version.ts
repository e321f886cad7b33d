import { readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";

let version: string | undefined;

/**
 * sharp's version, as `sharp.versions.sharp` gives it, read from its package.json: naming a variant (every cache
 * hit does) must not load sharp and libvips, which only deriving one needs.
 */
export function sharpVersion(): string {
  version ??=
    fromNodeModules() ??
    fromManifest() ??
    (createRequire(import.meta.url)("sharp") as typeof import("sharp")).versions.sharp;
  return version;
}

/**
 * The version in `node_modules/sharp/package.json` of the nearest folder above this file that has one: where Node
 * finds `import("sharp")` from here, without working out the package's `exports` (which only name its entry), a
 * millisecond of every build.
 */
function fromNodeModules(): string | undefined {
  let dir = new URL(".", import.meta.url);
  if (dir.protocol !== "file:") return undefined;
  for (;;) {
    const found = versionIn(new URL("node_modules/sharp/package.json", dir));
    if (found !== null) return found;
    const up = new URL("..", dir);
    if (up.href === dir.href) return undefined;
    dir = up;
  }
}

/** The version in the package.json above the file `sharp` resolves to (a layout without `node_modules` folders). */
function fromManifest(): string | undefined {
  try {
    let dir = new URL(".", import.meta.resolve("sharp"));
    for (let depth = 0; depth < 4; depth++) {
      const found = versionIn(new URL("package.json", dir));
      if (found !== null) return found;
      dir = new URL("..", dir);
    }
  } catch {
    // Resolved some other way (a bundle): loading sharp itself tells.
  }
  return undefined;
}

/** sharp's version in a package.json; undefined for another package's, null when there is none to read. */
function versionIn(file: URL): string | undefined | null {
  // A folder without the file is the common case on the way up: a `stat` says so without the cost of an error.
  if (!statSync(file, { throwIfNoEntry: false })?.isFile()) return null;
  let manifest: { name?: unknown; version?: unknown };
  try {
    manifest = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return null;
  }
  return manifest.name === "sharp" && typeof manifest.version === "string" ? manifest.version : undefined;
}
