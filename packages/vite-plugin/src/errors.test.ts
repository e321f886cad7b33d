import { describe, expect, it } from "vitest";
import { formatError, GrokImageError, redact } from "./errors.js";

describe("redact", () => {
  it("never cuts a short key out of other words", () => {
    expect(redact("grok-image failed for a kettle", "k")).toBe("grok-image failed for a kettle");
    expect(redact("the ok-button and k8s", "k")).toBe("the ok-button and k8s");
    expect(redact("secret_key and key.json", "key")).toBe("secret_key and key.json");
    expect(redact("x.key.y", "key")).toBe("x.key.y");
  });

  it("replaces the key wherever it stands as a token", () => {
    const key = "sk-live.4d9b_1f";
    const cases: Array<[string, string]> = [
      [`Authorization: Bearer ${key}`, "Authorization: Bearer [redacted]"],
      [`https://api.example/v1?key=${key}&x=1`, "https://api.example/v1?key=[redacted]&x=1"],
      [`https://${key}@api.example/`, "https://[redacted]@api.example/"],
      [`{"apiKey":"${key}","n":1}`, '{"apiKey":"[redacted]","n":1}'],
      [`bad token ${key}.`, "bad token [redacted]."],
      [`${key}`, "[redacted]"],
      [`(${key}), '${key}'\n${key}`, "([redacted]), '[redacted]'\n[redacted]"],
      [`\u001b[31m${key}\u001b[0m`, "\u001b[31m[redacted]\u001b[0m"],
    ];
    for (const [text, expected] of cases) expect(redact(text, key)).toBe(expected);
  });

  it("redacts a short key where it stands alone", () => {
    expect(redact("Bearer k; key=k&n=1", "k")).toBe("Bearer [redacted]; key=[redacted]&n=1");
  });

  it("replaces the percent-encoded and JSON-escaped spellings of a key with other characters", () => {
    const key = 'ab+/c="d';
    expect(redact(`?key=${encodeURIComponent(key)}`, key)).toBe("?key=[redacted]");
    expect(redact(JSON.stringify({ key }), key)).toBe('{"key":"[redacted]"}');
    // A key that ends in a non-word character has its own boundary there.
    expect(redact("k=abc=xyz", "abc=")).toBe("k=[redacted]xyz");
  });

  it("changes nothing for an empty key", () => {
    expect(redact("anything", "")).toBe("anything");
  });
});

describe("formatError", () => {
  it("leads with the code when asked, once", () => {
    const error = new GrokImageError("GROK_CACHE_UNWRITABLE", "The cache cannot be used.", {
      hint: "Fix it.",
    });
    expect(formatError(error)).toBe("The cache cannot be used.\n  hint: Fix it.");
    expect(formatError(error, { code: true })).toBe(
      "[GROK_CACHE_UNWRITABLE] The cache cannot be used.\n  hint: Fix it.",
    );
    const prefixed = new GrokImageError("GROK_TIMEOUT", "[GROK_TIMEOUT] already said");
    expect(formatError(prefixed, { code: true })).toBe("[GROK_TIMEOUT] already said");
  });

  it("quotes a grok-image cause that names what the message only summarises", () => {
    const damaged = new GrokImageError(
      "GROK_CACHE_CORRUPT",
      "The cached original /p/.grok-images/originals/ab12.png does not match its sha256.",
    );
    const error = new GrokImageError(
      "GROK_CACHE_CORRUPT",
      "The cached image for grok:a fox is damaged or missing.",
      {
        directive: "grok:a fox",
        cause: damaged,
        hint: "Run `grok-image verify`.",
      },
    );
    const text = formatError(error);
    expect(text).toContain("because: The cached original /p/.grok-images/originals/ab12.png does not match");
    expect(text.indexOf("because:")).toBeLessThan(text.indexOf("hint:"));
    // Other causes (an undici error, a plain Error) stay out: their text is not written for users.
    const plain = new GrokImageError("GROK_HTTP_ERROR", "failed.", { cause: new Error("socket hang up") });
    expect(formatError(plain)).toBe("failed.");
  });
});
