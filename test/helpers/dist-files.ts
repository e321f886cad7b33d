/*
 * What a build wrote: every file under an output directory with its bytes' hash, and the URLs its HTML, JS and
 * CSS reference. Shared by the Vite and Astro suites.
 */
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

/** Output-relative posix paths of every file under `dir`, sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join("/"))
    .sort();
}

/** `relative path -> sha256` of every file under `dir`: equal maps mean byte-identical outputs. */
export async function hashFiles(dir: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const file of await listFiles(dir)) {
    result[file] = createHash("sha256")
      .update(await readFile(path.join(dir, file)))
      .digest("hex");
  }
  return result;
}

/** Image URLs (`.webp`, `.avif`, `.png`, `.jpg`, `.jpeg`) referenced by the text files under `dir`. */
export async function referencedImageUrls(dir: string): Promise<string[]> {
  const urls = new Set<string>();
  for (const file of await listFiles(dir)) {
    if (!/\.(?:html|js|css)$/.test(file)) continue;
    const text = await readFile(path.join(dir, file), "utf8");
    for (const match of text.matchAll(/[\w./-]+\.(?:webp|avif|png|jpe?g)\b/g)) urls.add(match[0]);
  }
  return [...urls].sort();
}
