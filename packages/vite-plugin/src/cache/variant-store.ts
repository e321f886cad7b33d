import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { OutputFormat } from "../types.js";
import { fileExtension } from "./file-extension.js";
import { sha256Hex } from "./hash-file.js";
import { VerifiedVariants } from "./verified-variants.js";
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
  /**
   * sha256 of the file, filled in by `write`. Every use checks it: hashing a variant (kilobytes) is cheap next to
   * shipping one whose bytes rotted on disk. A sidecar without it (an older cache) gets its variant derived again.
   */
  sha256?: string;
}

/** What `check` found for a variant name. */
export type VariantCheck =
  /** The file matches its sidecar's size and sha256: safe to serve or emit. */
  | { state: "intact"; meta: VariantMeta }
  /** Nothing usable and nothing wrong: never derived, deleted, or a sidecar from before hashes were recorded. */
  | { state: "absent" }
  /** A file or sidecar is there but wrong: derive it again, and say so. */
  | { state: "damaged"; file: string; problem: string };

const OUTPUT_FORMATS: readonly string[] = ["webp", "avif", "jpeg", "png"];

/** The `variants/` directory: derived files named by their transform key, each with a JSON sidecar. */
export class VariantStore {
  readonly dir: string;
  /** What this machine has verified already; without it, every check reads and hashes. */
  readonly #verified: VerifiedVariants | undefined;

  /** `dir` and a separator: a build of thousands of hits asks for a path twice per image. */
  readonly #prefix: string;

  constructor(dir: string, verifiedFile?: string) {
    this.dir = dir;
    this.#prefix = join(dir, "x").slice(0, -1);
    this.#verified = verifiedFile === undefined ? undefined : new VerifiedVariants(verifiedFile);
  }

  /** `name` is a variant name (hex, checked by the cache): joined as is, no normalising needed. */
  path(name: string, format: OutputFormat): string {
    return `${this.#prefix}${name}.${fileExtension(format)}`;
  }

  sidecarPath(name: string): string {
    return join(this.dir, `${name}.json`);
  }

  /** Writes down what this machine verified (otherwise written shortly after the last change). */
  async saveVerified(): Promise<void> {
    await this.#verified?.flush();
  }

  /** Reads what this machine has verified, so `verifiedNow` can answer. */
  async loadVerified(): Promise<void> {
    await this.#verified?.load();
  }

  /** The variant's sidecar when this machine verified its file and it has not changed since; no await. */
  verifiedNow(name: string): VariantMeta | undefined {
    return this.#verified?.lookupNow(name, (meta) => this.path(name, meta.format));
  }

  /** The identity its file had when this machine verified it (`verifiedNow` just found it unchanged). */
  verifiedIdentity(name: string): string | undefined {
    return this.#verified?.identityOf(name);
  }

  /**
   * Whether the variant can be served: its sidecar read, its file read and hashed against the sidecar. No image
   * decoding: a hit stays a hash of a small file.
   */
  async check(name: string): Promise<VariantCheck> {
    // Verified on this machine and not written since: one stat, no read, no hash.
    const known = await this.#verified?.lookup(name, (meta) => this.path(name, meta.format));
    if (known) return { state: "intact", meta: known };
    const sidecar = this.sidecarPath(name);
    let text: string;
    try {
      text = await readFile(sidecar, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { state: "absent" };
      throw error;
    }
    const meta = parseVariantMeta(text);
    if (!meta) return { state: "damaged", file: sidecar, problem: "is not a valid variant sidecar" };
    if (meta.sha256 === undefined) return { state: "absent" };
    const file = this.path(name, meta.format);
    // Before the read: a change after this moment is one the record must not vouch for.
    const readAt = Date.now();
    let data: Buffer;
    try {
      data = await readFile(file);
    } catch (error) {
      // Deleting variants is allowed (they are rebuilt for free): a missing file is not damage.
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { state: "absent" };
      throw error;
    }
    if (data.length !== meta.bytes) {
      return { state: "damaged", file, problem: `has ${data.length} bytes instead of ${meta.bytes}` };
    }
    if (sha256Hex(data) !== meta.sha256)
      return { state: "damaged", file, problem: "does not match its sha256" };
    await this.#verified?.record(name, file, meta, readAt);
    return { state: "intact", meta };
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
    this.#verified?.written(name, this.path(name, meta.format), sidecar);
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
