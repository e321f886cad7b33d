import type { ReadyImage, ReadyOutput } from "../engine/engine-types.js";

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
  readonly pick: number;
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

export function shapeCode(images: readonly ReadyImage[], alt: string, opts: ShapeCodeOptions): string {
  const lines: string[] = [];
  if (opts.clientImport) lines.push(`import ${JSON.stringify(opts.clientImport)};`);
  const names = new Map<string, string>();
  const urlOf = (file: string): string => {
    let name = names.get(file);
    if (!name) {
      name = `url${names.size}`;
      names.set(file, name);
      lines.push(`import ${name} from ${JSON.stringify(importSpec(file, opts))};`);
    }
    return name;
  };
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
  const entries = images.map((image) => {
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
  lines.push(`export const images = [\n  ${entries.join(",\n  ")}\n];`);
  lines.push(`export const alt = ${JSON.stringify(alt)};`);
  const pick = Math.min(Math.max(opts.pick, 1), images.length);
  lines.push(`export default images[${pick - 1}];`);
  return `${lines.join("\n")}\n`;
}
