import { hash } from "node:crypto";
import type { Generation } from "../types.js";

/*
 * Keys are sha256 over a JSON array with a fixed field order. JSON of strings, integers and null is the same on
 * every machine and Node version, and an array (unlike an object) cannot reorder. The leading schema tag is
 * bumped whenever the meaning of a field changes, which turns every old key into a miss on purpose.
 */
const GENERATION_SCHEMA = "grok-image/generation/1";

/** One-shot: a build hashes a key per directive, and a hash object per call costs more than the hash. */
function sha256Hex(text: string): string {
  return hash("sha256", text, "hex");
}

/**
 * The key that decides when to pay: everything the API sees (model, normalized prompt, n, ratio, resolution)
 * plus the variant token `v`. Transform fields are deliberately absent: variants are named by
 * `image/variant-name.ts`.
 */
export function generationKey(g: Generation): string {
  return sha256Hex(JSON.stringify([GENERATION_SCHEMA, g.model, g.prompt, g.n, g.ratio, g.resolution, g.v]));
}
