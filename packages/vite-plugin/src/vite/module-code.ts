import type { ReadyImage } from "../engine/engine-types.js";
import type { OutputShape } from "../types.js";
import { shapeParts } from "./shape-code.js";

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
 * A `grok:` module before it is written out: the files it imports and how its exports are made of them.
 * `moduleCode()` writes it as a module of its own; a build writes it into the module that imports the directive
 * (inline-directives.ts). Both write the same parts, so the two can never disagree.
 */
export interface ModuleParts {
  /** Import specifiers of the files, in order: each is imported by default. */
  readonly specifiers: readonly string[];
  /** The `images` array's entries, given the names the files are imported under (one line each). */
  entries(names: readonly string[]): string[];
  /** `alt`, as a string literal. */
  readonly alt: string;
  /** The index in `images` of the default export; undefined exports `undefined` (a module without images). */
  readonly pick: number | undefined;
  /** A module imported first for its side effects (the dev client). */
  readonly clientImport?: string | undefined;
  /** A function declaration the entries call, written once per module that holds them. */
  readonly prelude?: string | undefined;
}

/**
 * Astro's image service hashes every enumerable field of an image's `src` for each image a page renders (the
 * transform's hash: a string of all of them, then a hash of it character by character), so fields added to its
 * `ImageMetadata` cost every `<Image>` and `getImage()` of a site, and change Astro's file names. The grok fields
 * are defined on it as non-enumerable instead: read as any field is (`hero.prompt`), invisible to that hash, as
 * Astro's own `fsPath` is. Writable and configurable, as an assignment would leave them: two directives whose
 * images are one file (same original, no provenance marking) import one object, and the last one evaluated names it.
 */
const GROK_FIELDS = "__grok_inline_fields";
const GROK_FIELDS_FUNCTION = `function ${GROK_FIELDS}(image, fields) { for (const name in fields) Object.defineProperty(image, name, { value: fields[name], writable: true, configurable: true }); return image; }`;

/** What a refused miss loads as (same exports, no image): the build fails at its end with one report of them all. */
export const REFUSED_PARTS: ModuleParts = { specifiers: [], entries: () => [], alt: '""', pick: undefined };

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
  return writeModule(moduleParts(images, alt, imageImport, noInline, extras));
}

/** The parts of the module `moduleCode()` writes. */
export function moduleParts(
  images: readonly ReadyImage[],
  alt: string,
  imageImport: ImageImport,
  noInline: boolean,
  extras: ModuleExtras = {},
): ModuleParts {
  const pick = images.length === 0 ? undefined : Math.min(Math.max(extras.pick ?? 1, 1), images.length) - 1;
  if (extras.as === "srcset" || extras.as === "picture") {
    return shapeParts(images, alt, {
      as: extras.as,
      build: noInline,
      astro: imageImport === "metadata",
      pick,
      clientImport: extras.clientImport,
    });
  }
  const suffix = imageImport === "url" && noInline ? "?no-inline" : "";
  const entry = (image: ReadyImage, name: string): string => {
    const grok = {
      prompt: image.prompt,
      model: image.model,
      index: image.index,
      ...(image.placeholder ? { placeholder: image.placeholder } : {}),
    };
    if (imageImport === "metadata") return `${GROK_FIELDS}(${name}, ${JSON.stringify(grok)})`;
    const meta = { width: image.width, height: image.height, format: image.format, ...grok };
    return `{ src: ${name}, ${JSON.stringify(meta).slice(1, -1)} }`;
  };
  return {
    specifiers: images.map((image) => importPath(image.file) + suffix),
    entries: (names) => images.map((image, i) => entry(image, names[i] as string)),
    alt: JSON.stringify(alt),
    pick,
    clientImport: extras.clientImport,
    ...(imageImport === "metadata" && images.length > 0 ? { prelude: GROK_FIELDS_FUNCTION } : {}),
  };
}

/** `parts` as a module of its own. */
export function writeModule(parts: ModuleParts): string {
  const lines: string[] = [];
  // The dev loop's client (which swaps a generating placeholder for its image) rides along with the module that
  // shows one: every page that imports a placeholder in the browser gets it, whatever its HTML entry is.
  if (parts.clientImport) lines.push(`import ${JSON.stringify(parts.clientImport)};`);
  if (parts.prelude) lines.push(parts.prelude);
  const names = parts.specifiers.map((_, i) => `image${i}`);
  parts.specifiers.forEach((specifier, i) => {
    lines.push(`import ${names[i]} from ${JSON.stringify(specifier)};`);
  });
  const entries = parts.entries(names);
  lines.push(
    entries.length === 0
      ? "export const images = [];"
      : `export const images = [\n  ${entries.join(",\n  ")}\n];`,
  );
  lines.push(`export const alt = ${parts.alt};`);
  lines.push(`export default ${parts.pick === undefined ? "undefined" : `images[${parts.pick}]`};`);
  return `${lines.join("\n")}\n`;
}
