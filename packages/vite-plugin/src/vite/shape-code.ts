import type { ReadyImage, ReadyOutput } from "../engine/engine-types.js";
import type { ModuleParts } from "./module-code.js";

/**
 * The code of an `as=srcset` or `as=picture` module (SPEC section 2), for plain Vite and any framework on it:
 *
 *   as=srcset  -> default export "a-320.webp 320w, a-640.webp 640w"
 *   as=picture -> default export { sources: { avif: "…320w, …", webp: "…" }, img: { src, width, height } }
 *
 * `images` holds the same shape for each of the task's `n` images. Every file is imported for its URL, so Vite
 * emits, hashes and serves it as any asset (see module-code.ts); in Astro too, where a query keeps Astro's image
 * import from turning the file into an `ImageMetadata` (these files ship as they are: Astro does not encode them).
 */
export interface ShapeCodeOptions {
  readonly as: "srcset" | "picture";
  /** A build: `?no-inline`, never a data URI. A dev server: plain URLs (`?url` in Astro). */
  readonly build: boolean;
  /** Astro's image import claims bare image imports; a query keeps them URLs. */
  readonly astro: boolean;
  /** The index in `images` of the default export (undefined without images). */
  readonly pick: number | undefined;
  readonly clientImport?: string | undefined;
}

function importSpec(file: string, opts: ShapeCodeOptions): string {
  const path = file.replaceAll("\\", "/");
  if (opts.build) return `${path}?no-inline`;
  return opts.astro ? `${path}?url` : path;
}

/** Outputs of one image; a stand-in without outputs (a dev placeholder) serves its one file at every size. */
function outputsOf(image: ReadyImage): readonly ReadyOutput[] {
  return (
    image.outputs ?? [{ file: image.file, width: image.width, height: image.height, format: image.format }]
  );
}

/** The parts of an `as=srcset` or `as=picture` module (written out by module-code.ts). */
export function shapeParts(images: readonly ReadyImage[], alt: string, opts: ShapeCodeOptions): ModuleParts {
  // Each file is imported once, in the order the entries first name it.
  const files: string[] = [];
  const indexOf = new Map<string, number>();
  const fileIndex = (file: string): number => {
    let index = indexOf.get(file);
    if (index === undefined) {
      index = files.length;
      indexOf.set(file, index);
      files.push(file);
    }
    return index;
  };
  const entries = (name: (index: number) => string): string[] => {
    const urlOf = (file: string) => name(fileIndex(file));
    /** A srcset expression: one candidate per distinct width (clamped widths share a file). */
    const srcset = (outputs: readonly ReadyOutput[]): string => {
      const seen = new Set<number>();
      const parts: string[] = [];
      for (const output of [...outputs].sort((a, b) => a.width - b.width)) {
        if (seen.has(output.width)) continue;
        seen.add(output.width);
        parts.push(`\${${urlOf(output.file)}} ${output.width}w`);
      }
      return `\`${parts.join(", ")}\``;
    };
    return images.map((image) => {
      const outputs = outputsOf(image);
      const formats = [...new Set(outputs.map((o) => o.format))];
      if (opts.as === "srcset") return srcset(outputs);
      const sources = formats.map(
        (format) => `${format}: ${srcset(outputs.filter((o) => o.format === format))}`,
      );
      const fallback = outputs
        .filter((o) => o.format === formats[formats.length - 1])
        .reduce((a, b) => (b.width > a.width ? b : a));
      const img = [
        `src: ${urlOf(fallback.file)}`,
        `width: ${fallback.width}`,
        `height: ${fallback.height}`,
        ...(image.placeholder ? [`placeholder: ${JSON.stringify(image.placeholder)}`] : []),
      ];
      return `{ sources: { ${sources.join(", ")} }, img: { ${img.join(", ")} } }`;
    });
  };
  // A first pass numbers the files in the order the entries name them.
  entries(() => "");
  return {
    specifiers: files.map((file) => importSpec(file, opts)),
    entries: (names) => entries((index) => names[index] as string),
    alt: JSON.stringify(alt),
    pick: opts.pick,
    clientImport: opts.clientImport,
  };
}
