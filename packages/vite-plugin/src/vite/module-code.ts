import type { ReadyImage } from "../engine/engine-types.js";
import type { OutputShape } from "../types.js";
import { shapeCode } from "./shape-code.js";

/**
 * How a `grok:` module turns a variant file into its default export:
 * - `"url"` (plain Vite): the file is imported for its URL and the module builds the image object around it.
 * - `"metadata"` (Astro): the file is imported as Astro's own image object (`ImageMetadata`), which carries hidden
 *   fields (`fsPath`, a `clone` getter behind a Proxy in server builds) that `<Image>`, `<Picture>` and
 *   `getImage()` rely on. The grok fields are added to that object in place, never spread into a new one, so
 *   those hidden fields survive.
 */
export type ImageImport = "url" | "metadata";

export interface ModuleExtras {
  /** The directive's `pick`: the 1-based index of the default export among its images. @default 1 */
  pick?: number;
  /** A module the code imports for its side effects first (the dev client, in a dev server). @default none */
  clientImport?: string;
  /** The directive's `as=`: `srcset` and `picture` modules are written by shape-code.ts. @default "metadata" */
  as?: OutputShape;
}

/** Posix path for an import specifier: Vite resolves `C:/x` and `/x` alike; backslashes would be escapes. */
function importPath(file: string): string {
  return file.replaceAll("\\", "/");
}

/**
 * The code of one `grok:` module. Deterministic (same images, same code) so builds are reproducible.
 *
 * Why the variant is `import`ed by absolute path rather than emitted with `this.emitFile`: Vite's own asset
 * pipeline then does everything a local image gets: a hashed file under `build.assetsDir`, `base` and
 * `renderBuiltUrl` applied, identical files emitted once (one module per path), and in dev the file is served by
 * the dev server (`/@fs/` outside the root, content type, ETag). It is also the only way Astro's image import can
 * see the file and produce its `ImageMetadata`, so one design covers both hosts.
 *
 * @param noInline in a build, ask Vite never to inline the file as a data URI (`?no-inline`): a `grok:` image is
 *   always a real file, whatever `build.assetsInlineLimit` says (the `placeholder` option is the inline preview).
 */
export function moduleCode(
  images: readonly ReadyImage[],
  alt: string,
  imageImport: ImageImport,
  noInline: boolean,
  extras: ModuleExtras = {},
): string {
  if (extras.as === "srcset" || extras.as === "picture") {
    return shapeCode(images, alt, {
      as: extras.as,
      build: noInline,
      astro: imageImport === "metadata",
      pick: extras.pick ?? 1,
      clientImport: extras.clientImport,
    });
  }
  const lines: string[] = [];
  // The dev loop's client (which swaps a generating placeholder for its image) rides along with the module that
  // shows one: every page that imports a placeholder in the browser gets it, whatever its HTML entry is.
  if (extras.clientImport) lines.push(`import ${JSON.stringify(extras.clientImport)};`);
  const entries: string[] = [];
  images.forEach((image, i) => {
    const spec = importPath(image.file) + (imageImport === "url" && noInline ? "?no-inline" : "");
    lines.push(`import image${i} from ${JSON.stringify(spec)};`);
    const grok = {
      prompt: image.prompt,
      model: image.model,
      index: image.index,
      ...(image.placeholder ? { placeholder: image.placeholder } : {}),
    };
    if (imageImport === "metadata") {
      entries.push(`Object.assign(image${i}, ${JSON.stringify(grok)})`);
    } else {
      const meta = { width: image.width, height: image.height, format: image.format, ...grok };
      entries.push(`{ src: image${i}, ${JSON.stringify(meta).slice(1, -1)} }`);
    }
  });
  lines.push(`export const images = [\n  ${entries.join(",\n  ")}\n];`);
  lines.push(`export const alt = ${JSON.stringify(alt)};`);
  const pick = Math.min(Math.max(extras.pick ?? 1, 1), images.length);
  lines.push(`export default images[${pick - 1}];`);
  return `${lines.join("\n")}\n`;
}
