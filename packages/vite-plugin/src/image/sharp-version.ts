import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";

let version: string | undefined;

/**
 * sharp's version, as `sharp.versions.sharp` gives it, read from its package.json: naming a variant (every cache
 * hit does) must not load sharp and libvips, which only deriving one needs.
 */
export function sharpVersion(): string {
  version ??=
    fromManifest() ?? (createRequire(import.meta.url)("sharp") as typeof import("sharp")).versions.sharp;
  return version;
}

/** The version in the package.json above the file `sharp` resolves to (its exports do not expose the manifest). */
function fromManifest(): string | undefined {
  try {
    let dir = new URL(".", import.meta.resolve("sharp"));
    for (let depth = 0; depth < 4; depth++) {
      const file = new URL("package.json", dir);
      if (existsSync(file)) {
        const manifest = JSON.parse(readFileSync(file, "utf8")) as { name?: unknown; version?: unknown };
        if (manifest.name === "sharp" && typeof manifest.version === "string") return manifest.version;
      }
      dir = new URL("..", dir);
    }
  } catch {
    // Resolved some other way (a bundle): loading sharp itself tells.
  }
  return undefined;
}
