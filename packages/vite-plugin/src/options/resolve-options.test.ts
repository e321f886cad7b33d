import path from "node:path";
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { formatError, GrokImageError } from "../errors.js";
import type { GrokImageOptions } from "../types.js";
import { DEFAULTS, type ResolveContext, resolveOptions } from "./resolve-options.js";

const ROOT = path.resolve("/projects/site");
const KEY = "sk-test-DISTINCTIVE-7f3a9c";
const ctx = (over: Partial<ResolveContext> = {}): ResolveContext => ({
  root: ROOT,
  env: {},
  command: "build",
  ...over,
});

function failure(user: unknown, context: ResolveContext = ctx()): GrokImageError {
  try {
    resolveOptions(user as GrokImageOptions, context);
  } catch (error) {
    expect(GrokImageError.isInstance(error)).toBe(true);
    const e = error as GrokImageError;
    expect(e.code).toBe("GROK_BAD_OPTION");
    expect(`${e.message} ${e.hint ?? ""}`).not.toContain(KEY);
    return e;
  }
  throw new Error("expected the options to be rejected");
}

describe("resolveOptions: defaults", () => {
  it("fills every default", () => {
    const o = resolveOptions(undefined, ctx());
    expect({ ...o }).toEqual({
      apiKey: undefined,
      baseUrl: DEFAULTS.baseUrl,
      tier: "lite",
      cacheDir: path.join(ROOT, ".grok-images"),
      mode: "generate",
      concurrency: "auto",
      timeoutMs: 300_000,
      maxCost: undefined,
      format: "webp",
      quality: 80,
      placeholder: "none",
      provenance: true,
      callBackUrl: undefined,
      styles: {},
      style: undefined,
      root: ROOT,
    });
    expect(Object.isFrozen(o)).toBe(true);
  });

  it('takes concurrency "auto" (the default) or a fixed number', () => {
    expect(resolveOptions({ concurrency: "auto" }, ctx()).concurrency).toBe("auto");
    expect(resolveOptions({ concurrency: 12 }, ctx()).concurrency).toBe(12);
  });

  it("keeps explicit values", () => {
    const o = resolveOptions(
      {
        apiKey: KEY,
        baseUrl: "http://127.0.0.1:4010/",
        tier: "pro",
        cacheDir: "../shared-cache",
        mode: "frozen",
        concurrency: 2,
        timeout: 1.5,
        maxCost: 0,
        format: "avif",
        quality: 60,
        placeholder: true,
        provenance: false,
        callBackUrl: "https://hooks.example.com/grok",
      },
      ctx(),
    );
    expect(o).toMatchObject({
      apiKey: KEY,
      baseUrl: "http://127.0.0.1:4010",
      tier: "pro",
      cacheDir: path.resolve(ROOT, "../shared-cache"),
      mode: "frozen",
      concurrency: 2,
      timeoutMs: 1500,
      maxCost: 0,
      format: "avif",
      quality: 60,
      placeholder: "blur",
      provenance: false,
      callBackUrl: "https://hooks.example.com/grok",
    });
  });

  it("reads styles, the default style and every placeholder spelling", () => {
    const o = resolveOptions(
      { styles: { ink: "black ink drawing" }, style: "ink", placeholder: "color" },
      ctx(),
    );
    expect([o.styles, o.style, o.placeholder]).toEqual([{ ink: "black ink drawing" }, "ink", "color"]);
    expect(resolveOptions({ placeholder: false }, ctx()).placeholder).toBe("none");
    expect(Object.isFrozen(o.styles)).toBe(true);
  });

  it("rejects a style that no preset names, a bad preset and a bad placeholder", () => {
    expect(() => resolveOptions({ styles: { ink: "x" }, style: "inc" }, ctx())).toThrow(
      /style.*"inc" is not a name in the styles option; did you mean "ink"\?/,
    );
    expect(() => resolveOptions({ styles: { ink: "" } }, ctx())).toThrow(/non-empty prompt text/);
    expect(() => resolveOptions({ styles: { none: "x" } }, ctx())).toThrow(/reserved/);
    expect(() => resolveOptions({ placeholder: "blurry" as never }, ctx())).toThrow(
      /Accepted values: true, false/,
    );
  });

  it("keeps an absolute cacheDir and a base path, accepts jpg", () => {
    const o = resolveOptions(
      { cacheDir: "/var/cache/grok", baseUrl: "https://proxy.example/maxapi//", format: "jpg" as "jpeg" },
      ctx(),
    );
    expect(o.cacheDir).toBe(path.resolve("/var/cache/grok"));
    expect(o.baseUrl).toBe("https://proxy.example/maxapi");
    expect(o.format).toBe("jpeg");
  });
});

describe("resolveOptions: environment", () => {
  const env = {
    MAXAPI_KEY: KEY,
    MAXAPI_BASE_URL: "http://localhost:9999",
    GROK_IMAGE_CACHE_DIR: "env-cache",
    GROK_IMAGE_MODE: "placeholder",
    GROK_IMAGE_MAX_COST: "0.25",
  };

  it("reads each variable", () => {
    const o = resolveOptions({}, ctx({ env }));
    expect(o).toMatchObject({
      apiKey: KEY,
      baseUrl: "http://localhost:9999",
      cacheDir: path.join(ROOT, "env-cache"),
      mode: "placeholder",
      maxCost: 0.25,
    });
  });

  it("lets explicit options win over the variables", () => {
    const o = resolveOptions(
      { apiKey: "explicit", baseUrl: "https://a.example", cacheDir: "c", mode: "generate", maxCost: 2 },
      ctx({ env }),
    );
    expect(o).toMatchObject({
      apiKey: "explicit",
      baseUrl: "https://a.example",
      mode: "generate",
      maxCost: 2,
    });
    expect(o.cacheDir).toBe(path.join(ROOT, "c"));
  });

  it("treats empty variables as unset", () => {
    const o = resolveOptions({}, ctx({ env: { MAXAPI_KEY: "", GROK_IMAGE_MODE: " ", CI: "" } }));
    expect(o.apiKey).toBeUndefined();
    expect(o.mode).toBe("generate");
  });

  it("defaults to frozen when CI is truthy, and lets mode override it", () => {
    expect(resolveOptions({}, ctx({ env: { CI: "true" } })).mode).toBe("frozen");
    expect(resolveOptions({}, ctx({ env: { CI: "1" } })).mode).toBe("frozen");
    expect(resolveOptions({}, ctx({ env: { CI: "false" } })).mode).toBe("generate");
    expect(resolveOptions({}, ctx({ env: { CI: "0" } })).mode).toBe("generate");
    expect(resolveOptions({}, ctx({ env: { CI: "true", GROK_IMAGE_MODE: "generate" } })).mode).toBe(
      "generate",
    );
    expect(resolveOptions({ mode: "placeholder" }, ctx({ env: { CI: "true" } })).mode).toBe("placeholder");
  });

  it("reads process.env when no env is given", () => {
    const o = resolveOptions({}, { root: ROOT, command: "cli" });
    expect(o.apiKey).toBe(process.env.MAXAPI_KEY?.trim() || undefined);
  });
});

describe("resolveOptions: dev fallback", () => {
  it("falls back to placeholder once, with one warning, when serving without a key", () => {
    const warnings: string[] = [];
    const o = resolveOptions({}, ctx({ command: "serve", onWarning: (m) => warnings.push(m) }));
    expect(o.mode).toBe("placeholder");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("MAXAPI_KEY");
    expect(warnings[0]).toContain("placeholder");
  });

  it("does not fall back with a key, in frozen mode, or outside dev", () => {
    const warnings: string[] = [];
    const onWarning = (m: string) => warnings.push(m);
    expect(resolveOptions({ apiKey: KEY }, ctx({ command: "serve", onWarning })).mode).toBe("generate");
    expect(resolveOptions({ mode: "frozen" }, ctx({ command: "serve", onWarning })).mode).toBe("frozen");
    expect(resolveOptions({}, ctx({ command: "build", onWarning })).mode).toBe("generate");
    expect(resolveOptions({}, ctx({ command: "cli", onWarning })).mode).toBe("generate");
    expect(warnings).toEqual([]);
  });
});

describe("resolveOptions: validation", () => {
  it.each([
    [{ tier: "ultra" }, '"tier"', "lite, standard, pro"],
    [{ mode: "offline" }, '"mode"', "generate, frozen, placeholder"],
    [{ concurrency: 0 }, '"concurrency"', "integers >= 1"],
    [{ concurrency: "fast" }, '"concurrency"', '"auto", integers >= 1'],
    [{ concurrency: 2.5 }, '"concurrency"', "integers >= 1"],
    [{ timeout: 0 }, '"timeout"', "seconds > 0"],
    [{ timeout: "300" }, '"timeout"', "seconds > 0"],
    [{ maxCost: -1 }, '"maxCost"', ">= 0"],
    [{ maxCost: Number.NaN }, '"maxCost"', ">= 0"],
    [{ format: "gif" }, '"format"', "webp, avif, jpeg, png"],
    [{ quality: 101 }, '"quality"', "1-100"],
    [{ quality: 79.5 }, '"quality"', "1-100"],
    [{ placeholder: "yes" }, '"placeholder"', "true, false"],
    [{ provenance: 1 }, '"provenance"', "true, false"],
    [{ baseUrl: "ftp://files.example" }, '"baseUrl"', "http:// or https://"],
    [{ baseUrl: "not a url" }, '"baseUrl"', "http:// or https://"],
    [{ baseUrl: "https://api.example/?x=1" }, '"baseUrl"', "query"],
    [{ callBackUrl: "localhost:3000/hook" }, '"callBackUrl"', "http:// or https://"],
    [{ cacheDir: "" }, '"cacheDir"', "directory path"],
    [{ apikey: "typo" }, '"apikey"', "apiKey, baseUrl"],
  ])("rejects %o naming the option and the accepted values", (user, option, accepted) => {
    const e = failure({ apiKey: KEY, ...user });
    expect(e.message).toContain(option);
    expect(e.message).toContain(accepted);
  });

  it("echoes the bad value", () => {
    expect(failure({ tier: "ultra" }).message).toContain('"ultra"');
    expect(failure({ concurrency: -4 }).message).toContain("-4");
  });

  it("names the environment variable a bad value came from", () => {
    const mode = failure({}, ctx({ env: { GROK_IMAGE_MODE: "sometimes" } }));
    expect(mode.message).toContain("GROK_IMAGE_MODE");
    expect(mode.message).toContain('"mode"');
    expect(mode.message).toContain('"sometimes"');
    const cost = failure({}, ctx({ env: { GROK_IMAGE_MAX_COST: "$5" } }));
    expect(cost.message).toContain("GROK_IMAGE_MAX_COST");
    expect(cost.message).toContain('"$5"');
    expect(failure({}, ctx({ env: { MAXAPI_BASE_URL: "api.maxapi.io" } })).message).toContain(
      "MAXAPI_BASE_URL",
    );
  });

  it("never shows credentials or the key", () => {
    const creds = failure({ baseUrl: `https://user:${KEY}@api.example` });
    expect(creds.message).toContain("credentials");
    expect(creds.hint).toContain("Bearer");
    failure({ baseUrl: `notaurl://user:${KEY}@api.example` });
    failure({ apiKey: 12345 });
    failure({ apiKey: KEY, tier: KEY });
    const wrongType = failure({ apiKey: { secret: KEY } });
    expect(wrongType.message).toContain('"apiKey"');
    expect(wrongType.message).toContain("value not shown");
  });

  it("rejects options that are not an object", () => {
    expect(failure("pro").message).toContain("expected an object");
    expect(failure([]).message).toContain("expected an object");
  });
});

describe("resolveOptions: the key stays out of logs", () => {
  it("redacts apiKey from JSON and inspect but keeps it readable", () => {
    const o = resolveOptions({ apiKey: KEY }, ctx());
    expect(o.apiKey).toBe(KEY);
    expect(JSON.stringify(o)).not.toContain(KEY);
    expect(JSON.stringify(o)).toContain("[redacted]");
    expect(inspect(o)).not.toContain(KEY);
    expect(inspect({ nested: o }, { depth: 5 })).not.toContain(KEY);
    expect({ ...o }.apiKey).toBe(KEY);
  });
});

describe("resolveOptions: a malformed key is refused before anything is sent", () => {
  it.each([
    [{ apiKey: "sk-first\nsk-second" }, {}, '"apiKey"', "line break"],
    [{ apiKey: "sk first" }, {}, '"apiKey"', "a space"],
    [{}, { MAXAPI_KEY: "sk-a\u0000b" }, "MAXAPI_KEY", "U+0000"],
    [{}, { MAXAPI_KEY: "sk-a\r\nsk-b" }, "MAXAPI_KEY", "line break"],
  ])("%j %j", (user, env, source, problem) => {
    const e = failure(user, ctx({ env }));
    expect(e.message).toContain(source);
    expect(e.message).toContain(problem);
    expect(e.message).toContain("nothing was sent to MaxAPI");
    expect(e.message).not.toMatch(/sk[- ]/);
    expect(e.hint).toContain("one line");
  });

  it("still trims a key pasted with a trailing newline", () => {
    expect(resolveOptions({ apiKey: `${KEY}\n` }, ctx()).apiKey).toBe(KEY);
    expect(resolveOptions({}, ctx({ env: { MAXAPI_KEY: ` ${KEY}\r\n` } })).apiKey).toBe(KEY);
  });
});

describe("resolveOptions: every bad option says what to do", () => {
  it("an empty MAXAPI_BASE_URL is an error with a hint, not a silent switch to the paid API", () => {
    const e = failure({ apiKey: KEY }, ctx({ env: { MAXAPI_BASE_URL: "" } }));
    expect(e.message).toContain("MAXAPI_BASE_URL");
    expect(e.message).toContain("set but empty");
    expect(e.hint).toContain("https://api.maxapi.io");
    expect(e.hint).toContain("emulator");
    expect(failure({}, ctx({ env: { MAXAPI_BASE_URL: "  " } })).message).toContain("empty");
  });

  it("an empty baseUrl option too", () => {
    const e = failure({ baseUrl: "" });
    expect(e.message).toContain('"baseUrl"');
    expect(e.message).toContain("empty");
    expect(e.hint).toContain("https://api.maxapi.io");
  });

  it.each([
    [{ tier: "ultra" }],
    [{ concurrency: 0 }],
    [{ timeout: 0 }],
    [{ quality: 101 }],
    [{ placeholder: "yes" }],
    [{ baseUrl: "ftp://files.example" }],
    [{ baseUrl: "https://api.example/?x=1" }],
    [{ callBackUrl: "" }],
    [{ apikey: "typo" }],
    [{ cacheDir: "" }],
  ])("%j has a hint", (user) => {
    const e = failure(user);
    expect(e.hint).toEqual(expect.any(String));
    expect(e.hint?.length).toBeGreaterThan(10);
    expect(formatError(e)).not.toContain("undefined");
  });
});
