import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { ImageCache } from "../cache/image-cache.js";
import { type VariantMeta, VariantStore } from "../cache/variant-store.js";
import { writeFileAtomic } from "../cache/write-file-atomic.js";
import { GrokImageError } from "../errors.js";
import { type DerivedVariant, deriveVariant } from "../image/derive-variant.js";
import { renderPlaceholderImage } from "../image/placeholder.js";
import { variantName } from "../image/variant-name.js";
import type { Directive, ManifestEntry, OriginalRecord, ResolvedOptions } from "../types.js";
import type { ImageStatus, ReadyImage } from "./engine-types.js";

/** In-process single flight: modules that share a variant derive it once. */
const inFlight = new Map<string, Promise<ReadyImage>>();

function once(name: string, make: () => Promise<ReadyImage>): Promise<ReadyImage> {
  let flight = inFlight.get(name);
  if (!flight) {
    flight = make().finally(() => inFlight.delete(name));
    inFlight.set(name, flight);
  }
  return flight;
}

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

function deriveOne(
  directive: Directive,
  entry: ManifestEntry,
  original: OriginalRecord,
  index: number,
  status: ImageStatus,
  cache: ImageCache,
  options: ResolvedOptions,
  warn: WarnDamaged,
): Promise<ReadyImage> {
  const { transform } = directive;
  // The provenance text is part of the name: byte-identical originals of two prompts must not share one XMP.
  const provenance = options.provenance ? { model: entry.model, prompt: entry.prompt } : null;
  const name = variantName(original.sha256, transform, {
    provenance: provenance ?? false,
    placeholder: options.placeholder,
  });
  const ready = (meta: { width: number; height: number; placeholder?: string | undefined }): ReadyImage => ({
    file: cache.variantPath(name, transform.format),
    width: meta.width,
    height: meta.height,
    format: transform.format,
    prompt: entry.prompt,
    model: entry.model,
    index,
    status,
    ...(meta.placeholder ? { placeholder: meta.placeholder } : {}),
  });
  return once(name, async () => {
    const found = await cache.checkVariant(name);
    if (found.state === "intact") return ready(found.meta);
    if (found.state === "damaged") warn(damagedVariantError(directive, found.file, found.problem));
    const bytes = await cache.readOriginal(original);
    const derived = await deriveVariant(bytes, transform, { provenance, placeholder: options.placeholder });
    const meta = sidecarOf(derived);
    await cache.writeVariant(name, derived.data, meta);
    return ready(meta);
  });
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
  const { generation, transform } = directive;
  const name = variantName(directive.generationKey.slice(0, 64), transform, {
    provenance: false,
    placeholder: options.placeholder,
  });
  return Promise.all(
    Array.from({ length: generation.n }, async (_, index): Promise<ReadyImage> => {
      const imageName = `${name}-${index}`;
      const found = await store.check(imageName);
      let meta = found.state === "intact" ? found.meta : undefined;
      if (!meta) {
        // Only a render writes: reusing a placeholder reads its sidecar and stats its file.
        await mkdir(store.dir, { recursive: true });
        await writeFileAtomic(join(store.dir, ".gitignore"), "*\n", { ifExists: "keep" });
        const label = `${generation.prompt}${generation.n > 1 ? ` (${index + 1}/${generation.n})` : ""}`;
        const derived = await deriveVariant(await renderPlaceholderImage(label, transform), transform, {
          provenance: null,
          placeholder: options.placeholder,
        });
        meta = sidecarOf(derived);
        await store.write(imageName, derived.data, meta);
      }
      return {
        file: store.path(imageName, transform.format),
        width: meta.width,
        height: meta.height,
        format: transform.format,
        prompt: generation.prompt,
        model: generation.model,
        index,
        status: "placeholder",
        ...(meta.placeholder ? { placeholder: meta.placeholder } : {}),
      };
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
