import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { OutputFormat } from "../types.js";
import { fileExtension } from "./file-extension.js";
import { sha256Hex } from "./hash-file.js";
import { writeFileAtomic } from "./write-file-atomic.js";

/** The sidecar `variants/<name>.json`: what a hit needs to know about a variant without decoding it. */
export interface VariantMeta {
  width: number;
  height: number;
  format: OutputFormat;
  /** Size of the variant file; a file of another size is treated as missing. */
  bytes: number;
  /** Inline data-URI preview, when it was asked for. */
  placeholder?: string;
  /** sha256 of the file, filled in by `write`; only `verify` reads it (a hit does not hash). */
  sha256?: string;
}

const OUTPUT_FORMATS: readonly string[] = ["webp", "avif", "jpeg", "png"];

/** The `variants/` directory: derived files named by their transform key, each with a JSON sidecar. */
export class VariantStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  path(name: string, format: OutputFormat): string {
    return join(this.dir, `${name}.${fileExtension(format)}`);
  }

  sidecarPath(name: string): string {
    return join(this.dir, `${name}.json`);
  }

  /**
   * The sidecar of a complete variant: one small read and one stat, no image decoding. Undefined when the
   * sidecar or the file is missing, the sidecar is unreadable, or the file's size disagrees with it.
   */
  async readMeta(name: string): Promise<VariantMeta | undefined> {
    let meta: VariantMeta | undefined;
    try {
      meta = parseVariantMeta(await readFile(this.sidecarPath(name), "utf8"));
    } catch {
      return undefined;
    }
    if (!meta) return undefined;
    try {
      const info = await stat(this.path(name, meta.format));
      return info.size === meta.bytes ? meta : undefined;
    } catch {
      return undefined;
    }
  }

  /** The file first, the sidecar last: a sidecar only ever describes a complete file. */
  async write(name: string, data: Buffer, meta: VariantMeta): Promise<void> {
    await writeFileAtomic(this.path(name, meta.format), data);
    const sidecar: VariantMeta = {
      width: meta.width,
      height: meta.height,
      format: meta.format,
      bytes: data.length,
      ...(meta.placeholder === undefined ? {} : { placeholder: meta.placeholder }),
      sha256: sha256Hex(data),
    };
    await writeFileAtomic(this.sidecarPath(name), `${JSON.stringify(sidecar, null, 2)}\n`);
  }
}

export function parseVariantMeta(text: string): VariantMeta | undefined {
  try {
    const v = JSON.parse(text) as Partial<VariantMeta>;
    if (
      Number.isInteger(v.width) &&
      Number.isInteger(v.height) &&
      Number.isInteger(v.bytes) &&
      typeof v.format === "string" &&
      OUTPUT_FORMATS.includes(v.format) &&
      (v.placeholder === undefined || typeof v.placeholder === "string") &&
      (v.sha256 === undefined || typeof v.sha256 === "string")
    ) {
      return v as VariantMeta;
    }
  } catch {
    // Unreadable sidecar: the variant is rebuilt.
  }
  return undefined;
}
