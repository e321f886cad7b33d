import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { ImageCache } from "../cache/image-cache.js";
import { type VariantMeta, VariantStore } from "../cache/variant-store.js";
import { writeFileAtomic } from "../cache/write-file-atomic.js";
import { GrokImageError } from "../errors.js";
import type { DerivedVariant } from "../image/derive-variant.js";
import { clampTransform, outputTransforms } from "../image/output-shapes.js";
import { variantName } from "../image/variant-name.js";
import type { Directive, ManifestEntry, OriginalRecord, ResolvedOptions, Transform } from "../types.js";
import type { ImageStatus, ReadyImage, ReadyOutput } from "./engine-types.js";

/** Says that a damaged variant is being derived again (an engine warn event). */
export type WarnDamaged = (error: GrokImageError) => void;

/**
 * The variants of one directive from its cached originals. A variant whose file matches its sidecar's sha256 is
 * reused without decoding anything; otherwise the original is read (verified against its hash) and derived. A
 * variant whose bytes no longer match is never handed out: `warn` hears of it, and it is derived again, for free.
 */
export async function deriveImages(
  directive: Directive,
  entry: ManifestEntry,
  status: ImageStatus,
  cache: ImageCache,
  options: ResolvedOptions,
  warn: WarnDamaged = () => {},
): Promise<ReadyImage[]> {
  return Promise.all(
    entry.originals.map((original, index) =>
      deriveOne(directive, entry, original, index, status, cache, options, warn),
    ),
  );
}

async function deriveOne(
  directive: Directive,
  entry: ManifestEntry,
  original: OriginalRecord,
  index: number,
  status: ImageStatus,
  cache: ImageCache,
  options: ResolvedOptions,
  warn: WarnDamaged,
): Promise<ReadyImage> {
  const primary = await deriveFile(
    directive,
    entry,
    original,
    clampTransform(directive.transform, original),
    {
      cache,
      warn,
      ...primaryHow(directive, options),
    },
  );
  const image: ReadyImage = {
    ...primary,
    prompt: entry.prompt,
    model: entry.model,
    index,
    status,
  };
  if (directive.output.as === "metadata") return image;
  const outputs = await Promise.all(
    outputTransforms(directive).map(async (transform): Promise<ReadyOutput> => {
      const clamped = clampTransform(transform, original);
      const file = await deriveFile(directive, entry, original, clamped, {
        cache,
        warn,
        ...outputHow(options),
      });
      return { file: file.file, width: file.width, height: file.height, format: file.format };
    }),
  );
  return { ...image, outputs };
}

/** What names a variant file besides its original and transform. */
interface FileHow {
  source: boolean;
  placeholder: Directive["placeholder"];
  provenanceOn: boolean;
}

interface DeriveFileOptions extends FileHow {
  cache: ImageCache;
  warn: WarnDamaged;
}

type DerivedFile = Pick<ReadyImage, "file" | "width" | "height" | "format" | "placeholder">;

/** In-process single flight per variant name: modules that share a file derive it once. */
const filesInFlight = new Map<string, Promise<DerivedFile>>();

/** The provenance a variant carries: part of its name, since byte-identical originals of two prompts differ in XMP. */
function provenanceOf(entry: ManifestEntry, how: FileHow) {
  return how.provenanceOn ? { model: entry.model, prompt: entry.prompt } : null;
}

function fileName(
  entry: ManifestEntry,
  original: OriginalRecord,
  transform: Transform,
  how: FileHow,
): string {
  return variantName(original.sha256, transform, {
    provenance: provenanceOf(entry, how) ?? false,
    placeholder: how.placeholder,
    source: how.source,
  });
}

function readyFile(cache: ImageCache, name: string, meta: VariantMeta): DerivedFile {
  return {
    file: cache.variantPath(name, meta.format),
    width: meta.width,
    height: meta.height,
    format: meta.format,
    ...(meta.placeholder ? { placeholder: meta.placeholder } : {}),
  };
}

/**
 * The images of a directive when every file they need is one this machine verified and has not seen change (one
 * `stat` each): nearly every directive of a cached build, answered without a promise. Undefined when any file needs
 * the full check or deriving, which `deriveImages` does. Same files, same objects as `deriveImages`.
 */
export function verifiedImages(
  directive: Directive,
  entry: ManifestEntry,
  status: ImageStatus,
  cache: ImageCache,
  options: ResolvedOptions,
  /** Given, receives each file of the images with the identity it was verified with (hit-record.ts). */
  identities?: Map<string, string>,
): ReadyImage[] | undefined {
  const images: ReadyImage[] = [];
  const verified = (original: OriginalRecord, transform: Transform, how: FileHow) => {
    const name = fileName(entry, original, clampTransform(transform, original), how);
    const meta = cache.verifiedVariant(name);
    if (!meta) return undefined;
    const ready = readyFile(cache, name, meta);
    const identity = identities && cache.verifiedIdentity(name);
    if (identity) identities?.set(ready.file, identity);
    return ready;
  };
  for (const [index, original] of entry.originals.entries()) {
    const primary = verified(original, directive.transform, primaryHow(directive, options));
    if (!primary) return undefined;
    const image: ReadyImage = { ...primary, prompt: entry.prompt, model: entry.model, index, status };
    if (directive.output.as === "metadata") {
      images.push(image);
      continue;
    }
    const outputs: ReadyOutput[] = [];
    for (const transform of outputTransforms(directive)) {
      const file = verified(original, transform, outputHow(options));
      if (!file) return undefined;
      outputs.push({ file: file.file, width: file.width, height: file.height, format: file.format });
    }
    images.push({ ...image, outputs });
  }
  return images;
}

/** How a directive's own file is derived: the handed-over source for a host that encodes it, its inline preview. */
function primaryHow(directive: Directive, options: ResolvedOptions): FileHow {
  return {
    source: directive.handoff === "source",
    placeholder: directive.placeholder,
    provenanceOn: options.provenance,
  };
}

/** The shapes (`as=srcset|picture`) ship as they are, so they are always encoded files of ours. */
function outputHow(options: ResolvedOptions): FileHow {
  return { source: false, placeholder: "none", provenanceOn: options.provenance };
}

function deriveFile(
  directive: Directive,
  entry: ManifestEntry,
  original: OriginalRecord,
  transform: Transform,
  how: DeriveFileOptions,
): Promise<DerivedFile> {
  const { cache, warn, source } = how;
  const provenance = provenanceOf(entry, how);
  const name = fileName(entry, original, transform, how);
  const ready = (meta: VariantMeta): DerivedFile => readyFile(cache, name, meta);
  let flight = filesInFlight.get(name);
  if (!flight) {
    flight = (async () => {
      const found = await cache.checkVariant(name);
      if (found.state === "intact") return ready(found.meta);
      if (found.state === "damaged") warn(damagedVariantError(directive, found.file, found.problem));
      const bytes = await cache.readOriginal(original);
      const opts = { provenance, placeholder: how.placeholder };
      // sharp loads with these, when something is derived: a cache hit never loads it.
      const derived = source
        ? await (await import("../image/derive-source.js")).deriveSource(
            bytes,
            original.format,
            transform,
            opts,
          )
        : await (await import("../image/derive-variant.js")).deriveVariant(bytes, transform, opts);
      const meta = sidecarOf(derived);
      await cache.writeVariant(name, derived.data, meta);
      return ready(meta);
    })().finally(() => filesInFlight.delete(name));
    filesInFlight.set(name, flight);
  }
  return flight;
}

function sidecarOf(derived: DerivedVariant): VariantMeta {
  return {
    width: derived.width,
    height: derived.height,
    format: derived.format,
    bytes: derived.data.length,
    ...(derived.placeholder ? { placeholder: derived.placeholder } : {}),
  };
}

/**
 * Local stand-ins for `mode: "placeholder"`. They live in `<cacheDir>/placeholders/`, which ignores itself in git,
 * so a placeholder can never be mistaken for (or committed as) a generation. Each is rendered once: a dev server
 * must not see the file change under it on every load.
 */
export async function placeholderImages(
  directive: Directive,
  options: ResolvedOptions,
): Promise<ReadyImage[]> {
  const store = new VariantStore(join(options.cacheDir, "placeholders"));
  const { generation } = directive;
  const render = async (transform: Transform, index: number, placeholder: Directive["placeholder"]) => {
    const name = variantName(directive.generationKey.slice(0, 64), transform, {
      provenance: false,
      placeholder,
    });
    const imageName = `${name}-${index}`;
    const found = await store.check(imageName);
    let meta = found.state === "intact" ? found.meta : undefined;
    if (!meta) {
      // Only a render writes: reusing a placeholder reads its sidecar and stats its file.
      await mkdir(store.dir, { recursive: true });
      await writeFileAtomic(join(store.dir, ".gitignore"), "*\n", { ifExists: "keep" });
      const label = `${generation.prompt}${generation.n > 1 ? ` (${index + 1}/${generation.n})` : ""}`;
      const { deriveVariant } = await import("../image/derive-variant.js");
      const { renderPlaceholderImage } = await import("../image/placeholder.js");
      const derived = await deriveVariant(await renderPlaceholderImage(label, transform), transform, {
        provenance: null,
        placeholder,
      });
      meta = sidecarOf(derived);
      await store.write(imageName, derived.data, meta);
    }
    return {
      file: store.path(imageName, meta.format),
      width: meta.width,
      height: meta.height,
      format: meta.format,
      ...(meta.placeholder ? { placeholder: meta.placeholder } : {}),
    };
  };
  return Promise.all(
    Array.from({ length: generation.n }, async (_, index): Promise<ReadyImage> => {
      const image: ReadyImage = {
        ...(await render(directive.transform, index, directive.placeholder)),
        prompt: generation.prompt,
        model: generation.model,
        index,
        status: "placeholder",
      };
      if (directive.output.as === "metadata") return image;
      const outputs = await Promise.all(outputTransforms(directive).map((t) => render(t, index, "none")));
      return { ...image, outputs };
    }),
  );
}

/** Used by `images()` when an original fails its hash check and regeneration is not allowed. */
export function corruptError(directive: Directive, cause: unknown): GrokImageError {
  return new GrokImageError(
    "GROK_CACHE_CORRUPT",
    `The cached image for ${directive.raw} is damaged or missing.`,
    {
      directive: directive.raw,
      cause,
      hint: "Run `grok-image verify` to see every damaged file; a build in generate mode regenerates it (a new paid task), or restore the cache from git or CI.",
    },
  );
}

/** What the log says about a variant that failed its hash check; it is derived again, so nothing is thrown. */
function damagedVariantError(directive: Directive, file: string, problem: string): GrokImageError {
  return new GrokImageError(
    "GROK_CACHE_CORRUPT",
    `The cached variant ${file} of ${directive.raw} ${problem}; deriving it again from its verified original (no API cost).`,
    {
      directive: directive.raw,
      hint: "Nothing to do for this build. Damaged files point at a failing disk or a bad copy of the cache: run `grok-image verify` to check the rest.",
    },
  );
}
