import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import type { GrokImageOptions } from "../types.js";
import { API_KEY, apiKeyProblem, hideApiKey, REDACTED, revealApiKey } from "./api-key.js";
import { resolveOptions } from "./resolve-options.js";

const KEY = "sk-live-HIDDEN-CANARY-93ac1e";

/** Every way a tool or a logger could show an object. */
function dumps(value: unknown): string[] {
  return [
    JSON.stringify(value),
    JSON.stringify({ nested: [value] }),
    inspect(value),
    inspect(value, { showHidden: true, getters: true, depth: 10 }),
    inspect({ deep: { deeper: value } }, { depth: 10 }),
    String(Object.entries(value as object)),
    JSON.stringify(structuredClone(value)),
  ];
}

describe("hideApiKey", () => {
  it("shows the key as [redacted] in every dump", () => {
    const shown = hideApiKey({ apiKey: KEY, tier: "pro" });
    for (const text of dumps(shown)) expect(text).not.toContain(KEY);
    expect(shown.apiKey).toBe(REDACTED);
    expect(shown.tier).toBe("pro");
    expect(Object.keys(shown)).toEqual(["tier", "apiKey"]);
  });

  it("keeps the real key for the resolver, through a spread too (how the CLI copies the config's options)", () => {
    const shown = hideApiKey({ apiKey: KEY });
    expect(revealApiKey(shown)).toBe(KEY);
    expect(revealApiKey({ ...shown })).toBe(KEY);
    const resolved = resolveOptions({ ...shown }, { root: "/p", env: {}, command: "cli" });
    expect(resolved.apiKey).toBe(KEY);
  });

  it("hides an already hidden key without losing it (the Astro integration hands its options on)", () => {
    const twice = hideApiKey(hideApiKey({ apiKey: KEY, mode: "frozen" }));
    expect(twice.apiKey).toBe(REDACTED);
    expect(revealApiKey(twice)).toBe(KEY);
  });

  it("copies options without a key as they are", () => {
    const shown = hideApiKey({ tier: "pro", maxCost: 2 });
    expect(shown).toEqual({ tier: "pro", maxCost: 2 });
    expect(Object.getOwnPropertySymbols(shown)).toEqual([]);
    expect(revealApiKey({ apiKey: KEY })).toBe(KEY);
  });

  it("reveals a wrong type as given, so the resolver can say what is wrong without showing it", () => {
    const shown = hideApiKey({ apiKey: { secret: KEY } as unknown as string });
    expect(JSON.stringify(shown)).not.toContain(KEY);
    expect(() => resolveOptions(shown, { root: "/p", env: {}, command: "cli" })).toThrow(/value not shown/);
  });

  it("uses a registered symbol, so a second copy of the package reads it", () => {
    const shown = hideApiKey({ apiKey: KEY }) as GrokImageOptions & Record<symbol, () => string>;
    expect(API_KEY).toBe(Symbol.for("grok-image.apiKey"));
    expect(shown[Symbol.for("grok-image.apiKey")]?.()).toBe(KEY);
  });
});

describe("apiKeyProblem", () => {
  it("accepts one printable ASCII word", () => {
    expect(apiKeyProblem(KEY)).toBeUndefined();
    expect(apiKeyProblem("abc.DEF_123-~+/=")).toBeUndefined();
  });

  it.each([
    ["sk-one\nsk-two", "line break (character 7 of 13)"],
    ["sk-one\r", "line break"],
    ["sk one", "a space (character 3 of 6)"],
    ["sk\tone", "a tab"],
    ["sk\u0000one", "control character U+0000"],
    ["sk\u007fone", "control character U+007F"],
    ["sk-\u00e9", "non-ASCII character U+00E9"],
  ])("names what is wrong with %j without quoting it", (key, problem) => {
    const text = apiKeyProblem(key);
    expect(text).toContain(problem);
    expect(text).not.toContain("sk");
  });
});
