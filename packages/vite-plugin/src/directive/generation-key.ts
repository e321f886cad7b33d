import { createHash } from "node:crypto";
import type { Generation, Transform } from "../types.js";

/*
 * Keys are sha256 over a JSON array with a fixed field order. JSON of strings, integers and null is the same on
 * every machine and Node version, and an array (unlike an object) cannot reorder. The leading schema tag is
 * bumped whenever the meaning of a field changes, which turns every old key into a miss on purpose.
 */
const GENERATION_SCHEMA = "grok-image/generation/1";
const TRANSFORM_SCHEMA = "grok-image/variant/1";

/** What a derived variant depends on besides the transform itself. */
export interface TransformKeyExtra {
  /** Whether the provenance XMP is written into the output. */
  readonly provenance: boolean;
  /** The encoder's identity, e.g. sharp's and libvips' versions: a new encoder re-derives. */
  readonly encoderVersion: string;
}

function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/**
 * The key that decides when to pay: everything the API sees (model, normalized prompt, n, ratio, resolution)
 * plus the variant token `v`. Transform fields are deliberately absent.
 */
export function generationKey(g: Generation): string {
  return sha256Hex(JSON.stringify([GENERATION_SCHEMA, g.model, g.prompt, g.n, g.ratio, g.resolution, g.v]));
}

/** The key of one derived file: the original's bytes (by hash), the transform and the encoder setup. */
export function transformKey(originalSha256: string, transform: Transform, extra: TransformKeyExtra): string {
  return sha256Hex(
    JSON.stringify([
      TRANSFORM_SCHEMA,
      originalSha256,
      transform.w,
      transform.h,
      transform.fit,
      transform.format,
      transform.quality,
      extra.provenance,
      extra.encoderVersion,
    ]),
  );
}
