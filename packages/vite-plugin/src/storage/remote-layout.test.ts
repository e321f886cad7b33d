import { describe, expect, it } from "vitest";
import { generationKey } from "../directive/generation-key.js";
import type { Generation, ManifestEntry } from "../types.js";
import { keyOfEntryName, parseEntry, serializeEntry } from "./remote-layout.js";

const generation: Generation = {
  model: "grok-imagine/text-to-image-lite",
  tier: "lite",
  prompt: "a shared prompt",
  n: 1,
  ratio: null,
  resolution: null,
  v: null,
};
const key = generationKey(generation);
const entry: ManifestEntry = {
  model: generation.model,
  prompt: generation.prompt,
  n: 1,
  ratio: null,
  resolution: null,
  v: null,
  taskId: "task-1",
  createdAt: "2026-01-01T00:00:00.000Z",
  originals: [{ sha256: "a".repeat(64), width: 8, height: 8, format: "jpeg", bytes: 10 }],
};
const problem = (body: unknown, as = key) => {
  const parsed = parseEntry(as, Buffer.from(typeof body === "string" ? body : JSON.stringify(body)));
  return "problem" in parsed ? parsed.problem : undefined;
};

describe("entries in the shared cache", () => {
  it("round-trip, and name their key", () => {
    expect(parseEntry(key, serializeEntry(key, entry))).toEqual({ entry });
    expect(keyOfEntryName(`entries/${key}.json`)).toBe(key);
    expect(keyOfEntryName("entries/../x.json")).toBeUndefined();
  });

  it("are refused when they are not what their name says, or could write outside the cache", () => {
    const wrapped = { schema: "grok-image/shared-entry/1", key, entry };
    expect(problem("{not json")).toBe("it is not JSON");
    expect(problem({ ...wrapped, schema: "other" })).toMatch(/schema/);
    expect(problem(wrapped, "b".repeat(64))).toMatch(/names the key/);
    expect(problem({ ...wrapped, entry: { ...entry, prompt: "another prompt" } })).toMatch(
      /belong to another key/,
    );
    const traversal = { ...entry, originals: [{ ...entry.originals[0], format: "png/../../../../tmp/x" }] };
    expect(problem({ ...wrapped, entry: traversal })).toBe("an original has a bad format");
  });
});
