import { describe, expect, it } from "vitest";
import { generationKey } from "./generation-key.js";
import { parseDirective } from "./parse-directive.js";

const DEFAULTS = { tier: "lite", format: "webp", quality: 80 } as const;
const keyOf = (raw: string) => parseDirective(raw, DEFAULTS).generationKey;

describe("generationKey", () => {
  it("is pinned for a fixture directive, so keys stay stable across machines and releases", () => {
    // Computed once and frozen: if this changes, every user's cache misses and pays again.
    expect(keyOf("grok:a misty forest at dawn?tier=pro&n=2&ratio=16:9&resolution=1080p&v=hero")).toBe(
      "21f03bf2e766341c82b22ccfec23109bd85f9b4031b395c3ae4df393c9805d70",
    );
  });

  it("is what parseDirective stores", () => {
    const d = parseDirective("grok:x?tier=standard&n=3", DEFAULTS);
    expect(generationKey(d.generation)).toBe(d.generationKey);
  });

  it("changes with everything the API sees, and with v", () => {
    const base = keyOf("grok:a fox?tier=pro");
    const variants = [
      "grok:a fox?tier=standard",
      "grok:a fox?tier=pro&n=2",
      "grok:a fox?tier=pro&ratio=1:1",
      "grok:a fox?tier=pro&resolution=720p",
      "grok:a fox?tier=pro&v=2",
      "grok:a red fox?tier=pro",
    ].map(keyOf);
    expect(new Set([base, ...variants]).size).toBe(variants.length + 1);
  });

  it("ignores w, h, fit, format and quality", () => {
    const base = keyOf("grok:a fox?tier=pro");
    expect(keyOf("grok:a fox?tier=pro&w=320&h=200&fit=fill&format=avif&quality=40")).toBe(base);
  });

  it("does not confuse field boundaries", () => {
    const a = generationKey({
      model: "m",
      tier: "lite",
      prompt: "a",
      n: 1,
      ratio: null,
      resolution: null,
      v: "b",
    });
    const b = generationKey({
      model: "m",
      tier: "lite",
      prompt: "a,b",
      n: 1,
      ratio: null,
      resolution: null,
      v: null,
    });
    expect(a).not.toBe(b);
  });
});
