import { describe, expect, it } from "vitest";
import { GrokImageError } from "../errors.js";
import type { DirectiveDefaults } from "./parse-directive.js";
import { isDirectiveId, parseDirective, stripViteQuery } from "./parse-directive.js";

const DEFAULTS: DirectiveDefaults = { tier: "lite", format: "webp", quality: 80 };
const parse = (raw: string, defaults: DirectiveDefaults = DEFAULTS) => parseDirective(raw, defaults);

function failure(raw: string, defaults: DirectiveDefaults = DEFAULTS): GrokImageError {
  try {
    parse(raw, defaults);
  } catch (error) {
    expect(GrokImageError.isInstance(error)).toBe(true);
    const e = error as GrokImageError;
    expect(e.code).toBe("GROK_BAD_DIRECTIVE");
    expect(e.directive).toBe(raw);
    expect(e.message).toContain(raw);
    expect(e.hint).toBeTruthy();
    return e;
  }
  throw new Error(`expected ${raw} to be rejected`);
}

describe("parseDirective: defaults", () => {
  it("fills every default from the plugin defaults", () => {
    const d = parse("grok:a misty forest");
    expect(d.raw).toBe("grok:a misty forest");
    expect(d.generation).toEqual({
      model: "grok-imagine/text-to-image-lite",
      tier: "lite",
      prompt: "a misty forest",
      n: 1,
      ratio: null,
      resolution: null,
      v: null,
    });
    expect(d.transform).toEqual({ w: null, h: null, fit: null, format: "webp", quality: 80 });
    expect(d.generationKey).toMatch(/^[0-9a-f]{64}$/);
  });

  it("takes tier, format and quality defaults from the options", () => {
    const d = parse("grok:x", { tier: "pro", format: "avif", quality: 55 });
    expect(d.generation.tier).toBe("pro");
    expect(d.generation.model).toBe("grok-imagine/text-to-image-pro");
    expect(d.transform.format).toBe("avif");
    expect(d.transform.quality).toBe(55);
  });

  it("returns frozen objects", () => {
    const d = parse("grok:x?w=10");
    expect(Object.isFrozen(d)).toBe(true);
    expect(Object.isFrozen(d.generation)).toBe(true);
    expect(Object.isFrozen(d.transform)).toBe(true);
  });
});

describe("parseDirective: parsed once per options", () => {
  it("gives the same directive for the same text and options, and parses again for other options", () => {
    const first = parseDirective("grok:a quiet harbour?w=640", DEFAULTS);
    expect(parseDirective("grok:a quiet harbour?w=640", DEFAULTS)).toBe(first);
    const other = parseDirective("grok:a quiet harbour?w=640", { ...DEFAULTS, format: "avif" });
    expect(other).not.toBe(first);
    expect(other.transform.format).toBe("avif");
    expect(first.transform.format).toBe("webp");
  });

  it("throws for a bad directive every time it is asked", () => {
    for (let i = 0; i < 2; i++) {
      expect(() => parseDirective("grok:a quiet harbour?tier=ultra", DEFAULTS)).toThrow(
        /lite, standard, pro/,
      );
    }
  });
});

describe("parseDirective: params", () => {
  it("reads every param", () => {
    const d = parse(
      "grok:x?tier=standard&n=7&ratio=9:16&resolution=1080p&v=hero&w=640&h=480&fit=contain&format=png&quality=90",
    );
    expect(d.generation).toMatchObject({
      tier: "standard",
      n: 7,
      ratio: "9:16",
      resolution: "1080p",
      v: "hero",
    });
    expect(d.transform).toEqual({ w: 640, h: 480, fit: "contain", format: "png", quality: 90 });
  });

  it("defaults fit to cover only when both w and h are given", () => {
    expect(parse("grok:x?w=640&h=480").transform.fit).toBe("cover");
    expect(parse("grok:x?w=640").transform.fit).toBeNull();
    expect(parse("grok:x?h=480").transform.fit).toBeNull();
    expect(parse("grok:x?w=640&fit=inside").transform.fit).toBe("inside");
  });

  it("accepts jpg as jpeg", () => {
    expect(parse("grok:x?format=jpg").transform.format).toBe("jpeg");
    expect(parse("grok:x?format=jpeg").transform.format).toBe("jpeg");
  });

  it("accepts the n range of each tier", () => {
    expect(parse("grok:x?n=4").generation.n).toBe(4);
    expect(parse("grok:x?tier=pro&n=10").generation.n).toBe(10);
    expect(parse("grok:x?n=10", { ...DEFAULTS, tier: "standard" }).generation.n).toBe(10);
  });

  it("accepts quality bounds and short variant tokens", () => {
    expect(parse("grok:x?quality=1").transform.quality).toBe(1);
    expect(parse("grok:x?quality=100").transform.quality).toBe(100);
    expect(parse("grok:x?v=2").generation.v).toBe("2");
    expect(parse("grok:x?v=a_b-C").generation.v).toBe("a_b-C");
  });

  it("ignores empty segments and trims names and values", () => {
    const d = parse("grok:x? tier = pro &&w=5&");
    expect(d.generation.tier).toBe("pro");
    expect(d.transform.w).toBe(5);
    expect(parse("grok:x?").generation.prompt).toBe("x");
  });

  it("percent-decodes param values", () => {
    expect(parse("grok:x?tier=pro&ratio=16%3A9").generation.ratio).toBe("16:9");
  });
});

describe("parseDirective: prompt normalization", () => {
  it("percent-decodes, trims and collapses whitespace", () => {
    expect(parse("grok:%20%20a%20misty%0A%09forest%20").generation.prompt).toBe("a misty forest");
    expect(parse("grok:  a   misty \n forest  ?n=2").generation.prompt).toBe("a misty forest");
  });

  it("keeps %3F and \\? in the prompt instead of splitting", () => {
    const encoded = parse("grok:why is the sky blue%3F?tier=pro");
    expect(encoded.generation.prompt).toBe("why is the sky blue?");
    expect(encoded.generation.tier).toBe("pro");
    const escaped = parse("grok:why is the sky blue\\??tier=pro");
    expect(escaped.generation.prompt).toBe("why is the sky blue?");
    expect(escaped.generationKey).toBe(encoded.generationKey);
  });

  it("splits at the first unescaped ?", () => {
    expect(() => parse("grok:what?is this")).toThrow(/no value/);
  });

  it("keeps a % that does not start an escape, and + as is", () => {
    expect(parse("grok:a 50% discount banner").generation.prompt).toBe("a 50% discount banner");
    expect(parse("grok:C++ logo").generation.prompt).toBe("C++ logo");
  });

  it("decodes UTF-8 and normalizes to NFC", () => {
    expect(parse("grok:caf%C3%A9").generation.prompt).toBe("café");
    expect(parse("grok:cafe\u0301").generationKey).toBe(parse("grok:caf\u00e9").generationKey);
  });

  it("gives equal keys to the same prompt written differently", () => {
    const a = parse("grok:a misty forest?tier=pro").generationKey;
    expect(parse("grok:a%20misty%20forest?tier=pro").generationKey).toBe(a);
    expect(parse("grok: a  misty\tforest ?tier=pro").generationKey).toBe(a);
  });
});

describe("parseDirective: errors", () => {
  it("rejects an empty prompt", () => {
    expect(failure("grok:").message).toContain("prompt is empty");
    expect(failure("grok:  %20 ?tier=pro").message).toContain("prompt is empty");
  });

  it("rejects ids that are not directives", () => {
    expect(failure("./forest.png").message).toContain('start with "grok:"');
  });

  it("rejects malformed percent sequences clearly", () => {
    const e = failure("grok:broken %E2%82 text");
    expect(e.message).toContain("%E2%82");
    expect(e.message).toContain("not valid UTF-8");
    expect(failure("grok:x?v=%FF").message).toContain("%FF");
  });

  it("rejects unknown params and lists the accepted ones", () => {
    const e = failure("grok:x?size=large");
    expect(e.message).toContain('unknown parameter "size"');
    expect(e.message).toContain("tier, n, ratio, resolution, v, w, h, fit, format, quality");
  });

  it("rejects a param without a value", () => {
    expect(failure("grok:x?pro").message).toContain('"pro" has no value');
  });

  it("rejects duplicate params", () => {
    expect(failure("grok:x?w=1&w=2").message).toContain('"w" is given more than once');
  });

  it("rejects a bad tier with the accepted tiers", () => {
    expect(failure("grok:x?tier=ultra").message).toContain("Accepted values: lite, standard, pro");
  });

  it("rejects n out of the tier's range", () => {
    const lite = failure("grok:x?n=5");
    expect(lite.message).toContain("n=5");
    expect(lite.message).toContain("1-4 for tier lite");
    expect(failure("grok:x?tier=pro&n=11").message).toContain("1-10 for tier pro");
    expect(failure("grok:x?n=0").message).toContain("n=");
    expect(failure("grok:x?n=1.5").message).toContain("Accepted values");
  });

  it("tells lite users to describe the orientation in the prompt", () => {
    for (const raw of ["grok:x?ratio=16:9", "grok:x?tier=lite&resolution=720p"]) {
      const e = failure(raw);
      expect(e.message).toContain("does not accept");
      expect(e.message).toContain("orientation in the prompt");
      expect(e.message).toContain("wide landscape");
      expect(e.message).toMatch(/tier=standard or tier=pro/);
    }
    expect(failure("grok:x?ratio=1:1").message).toContain("1:1, 16:9, 9:16");
    expect(failure("grok:x?resolution=720p").message).toContain("720p, 1080p");
    expect(failure("grok:x?ratio=1:1").message).toContain("(the default tier)");
  });

  it("rejects ratio and resolution values outside the list", () => {
    const ratio = failure("grok:x?tier=pro&ratio=4:3");
    expect(ratio.message).toContain('ratio="4:3"');
    expect(ratio.message).toContain("1:1, 16:9, 9:16");
    expect(failure("grok:x?tier=standard&resolution=4k").message).toContain("720p, 1080p");
  });

  it("rejects bad w, h, fit, format, quality and v", () => {
    expect(failure("grok:x?w=0").message).toContain("positive integers");
    expect(failure("grok:x?h=-3").message).toContain("positive integers");
    expect(failure("grok:x?w=12px").message).toContain('w="12px"');
    expect(failure("grok:x?fit=stretch").message).toContain("cover, contain, inside, outside, fill");
    expect(failure("grok:x?format=gif").message).toContain("webp, avif, jpeg, png");
    expect(failure("grok:x?quality=101").message).toContain("1-100");
    expect(failure("grok:x?quality=0").message).toContain("1-100");
    expect(failure("grok:x?v=has space").message).toContain("letters, digits");
    expect(failure(`grok:x?v=${"a".repeat(33)}`).message).toContain("1 to 32");
  });

  it("leaves importer settable for the caller", () => {
    const e = failure("grok:x?bad=1");
    e.importer = "/src/page.ts";
    expect(e.importer).toBe("/src/page.ts");
  });
});

describe("parseDirective: did you mean", () => {
  it("names the parameter an unknown one most likely meant, and what to write instead", () => {
    const e = failure("grok:x?with=960");
    expect(e.message).toContain('unknown parameter "with"; did you mean "w"?');
    expect(e.message).toContain(
      "Accepted parameters: tier, n, ratio, resolution, v, w, h, fit, format, quality, pick",
    );
    expect(e.hint).toBe("Write w=960 instead of with=960.");
    expect(e).toMatchObject({ param: "with", didYouMean: "w" });
    expect(e.accepted).toContain("quality");
  });

  it.each([
    ["width=640", "w"],
    ["wdth=640", "w"],
    ["Width=640", "w"],
    ["height=480", "h"],
    ["hight=480", "h"],
    ["fmt=png", "format"],
    ["type=png", "format"],
    ["ext=png", "format"],
    ["q=70", "quality"],
    ["count=2", "n"],
    ["num=2", "n"],
    ["model=pro", "tier"],
    ["aspect=16:9", "ratio"],
    ["aspect_ratio=16:9", "ratio"],
    ["aspect-ratio=16:9", "ratio"],
    ["ar=16:9", "ratio"],
    ["res=720p", "resolution"],
    ["variant=2", "v"],
    ["version=2", "v"],
    ["seed=42", "v"],
    ["fromat=png", "format"],
    ["tire=pro", "tier"],
    ["qualty=70", "quality"],
    ["widht=640", "w"],
    ["Format=png", "format"],
  ])("?%s: did you mean %s", (segment, meant) => {
    const e = failure(`grok:x?${segment}`);
    expect(e.message).toContain(`did you mean "${meant}"?`);
    expect(e.didYouMean).toBe(meant);
    expect(e.hint).toBe(`Write ${meant}=${segment.split("=")[1]} instead of ${segment}.`);
  });

  it("reads size from its value", () => {
    expect(failure("grok:x?size=640x480").hint).toBe("Write w=640&h=480 instead of size=640x480.");
    expect(failure("grok:x?size=640x480").message).toContain('did you mean "w" and "h"?');
    expect(failure("grok:x?size=1080p").didYouMean).toBe("resolution");
    expect(failure("grok:x?size=large").message).toContain(
      'unknown parameter "size"; did you mean "w" and "h"?',
    );
  });

  it("suggests nothing for a name that is close to no parameter", () => {
    for (const raw of ["grok:x?x=1", "grok:x?colour=red", "grok:x?bad=1"]) {
      const e = failure(raw);
      expect(e.message).not.toContain("did you mean");
      expect(e.didYouMean).toBeUndefined();
      expect(e.message).toContain("Accepted parameters:");
    }
  });

  it("says the accepted values and the closest one for a bad value", () => {
    const webp = failure("grok:x?format=webpp");
    expect(webp.message).toContain('format="webpp" is not accepted; did you mean "webp"?');
    expect(webp.message).toContain("Accepted values: webp, avif, jpeg, png (jpg means jpeg)");
    expect(webp).toMatchObject({
      param: "format",
      didYouMean: "webp",
      hint: "Write format=webp instead of format=webpp.",
    });
    expect(webp.accepted).toEqual(["webp", "avif", "jpeg", "png"]);
    const fit = failure("grok:x?fit=cover!");
    expect(fit.message).toContain('did you mean "cover"?');
    expect(fit.message).toContain("cover, contain, inside, outside, fill");
    expect(failure("grok:x?fit=stretch").didYouMean).toBe("fill");
    expect(failure("grok:x?format=JPG").didYouMean).toBe("jpeg");
    expect(failure("grok:x?format=.png").didYouMean).toBe("png");
    expect(failure("grok:x?tier=standart").didYouMean).toBe("standard");
    expect(failure("grok:x?tier=grok-imagine/text-to-image-pro").didYouMean).toBe("pro");
    expect(failure("grok:x?tier=pro&ratio=16x9").didYouMean).toBe("16:9");
    expect(failure("grok:x?tier=pro&ratio=landscape").didYouMean).toBe("16:9");
    expect(failure("grok:x?tier=pro&resolution=1080").didYouMean).toBe("1080p");
    expect(failure("grok:x?quality=0.8").didYouMean).toBe("80");
    expect(failure("grok:x?w=640px").hint).toBe("Write w=640 instead of w=640px.");
    expect(failure("grok:x?v=has space").didYouMean).toBe("has-space");
  });

  it("lists the accepted values without a guess when nothing is close", () => {
    const gif = failure("grok:x?format=gif");
    expect(gif.message).toContain('format="gif" is not accepted. Accepted values: webp, avif, jpeg, png');
    expect(gif.didYouMean).toBeUndefined();
    expect(gif.hint).toBe("Use one of the accepted values, e.g. format=webp.");
    const ultra = failure("grok:x?tier=ultra");
    expect(ultra.message).not.toContain("did you mean");
    expect(ultra).toMatchObject({ param: "tier", accepted: ["lite", "standard", "pro"] });
  });

  it("reads a bare value as the parameter it belongs to", () => {
    const e = failure("grok:x?pro");
    expect(e.message).toContain('did you mean "tier=pro"?');
    expect(e.hint).toBe("Write tier=pro instead of pro.");
    expect(failure("grok:x?webp").didYouMean).toBe("format=webp");
    expect(failure("grok:what?is this").hint).toContain("%3F");
  });

  it("says which tier takes a larger n", () => {
    expect(failure("grok:x?n=5").hint).toBe("Use n=4 or fewer, or tier=standard or tier=pro for n=5.");
    expect(failure("grok:x?tier=pro&n=11").hint).toContain("n=1 to n=10");
  });
});

describe("directive ids", () => {
  it("recognises grok: ids", () => {
    expect(isDirectiveId("grok:a forest")).toBe(true);
    expect(isDirectiveId("./grok:a")).toBe(false);
    expect(isDirectiveId("\0grok:a")).toBe(false);
  });

  it("strips only the query segments Vite adds", () => {
    expect(stripViteQuery("grok:a forest?import")).toBe("grok:a forest");
    expect(stripViteQuery("grok:a forest?import&tier=pro")).toBe("grok:a forest?tier=pro");
    expect(stripViteQuery("grok:a forest?tier=pro&t=1712345678")).toBe("grok:a forest?tier=pro");
    expect(stripViteQuery("grok:a forest?tier=pro&v=2")).toBe("grok:a forest?tier=pro&v=2");
    expect(stripViteQuery("grok:why\\??import")).toBe("grok:why\\?");
    expect(stripViteQuery("grok:a forest")).toBe("grok:a forest");
  });
});

describe("parseDirective: control characters", () => {
  it.each([
    ["grok:a misty\u0000forest", "prompt", "U+0000 (NUL)", ""],
    ["grok:a misty%00forest", "prompt", "U+0000 (NUL)", ", written %00"],
    ["grok:bell\u0007here", "prompt", "U+0007", ""],
    ["grok:an escape\u001b[31m", "prompt", "U+001B (ESC)", ""],
    ["grok:del%7F", "prompt", "U+007F (DEL)", ", written %7F"],
    ["grok:c1%C2%85", "prompt", "U+0085", ""],
    ["grok:a fox?tier=pro%01", 'value of "tier"', "U+0001", ", written %01"],
  ])("%j is refused, naming the character", (raw, where, named, spelled) => {
    const e = failure(raw);
    expect(e.message).toContain(`the ${where} contains the control character ${named}${spelled}`);
    expect(e.message).toContain("sent to MaxAPI");
    expect(e.hint).toContain("Remove it");
  });

  it("keeps tabs and line breaks as spaces, as before", () => {
    expect(parse("grok:a misty\tforest\r\nat dawn").generation.prompt).toBe("a misty forest at dawn");
    expect(parse("grok:a misty%0Aforest").generation.prompt).toBe("a misty forest");
  });
});

describe("parseDirective: pick", () => {
  it("defaults to the first take and never changes the generation key", () => {
    expect(parse("grok:x?n=4").pick).toBe(1);
    const picked = parse("grok:x?n=4&pick=3");
    expect(picked.pick).toBe(3);
    expect(picked.generationKey).toBe(parse("grok:x?n=4").generationKey);
  });

  it("accepts 1 to n only, and says how to get more takes", () => {
    const over = failure("grok:x?n=2&pick=3");
    expect(over.message).toContain(
      "pick=3 is out of range: the task makes 2 images (n=2). Accepted values: integers 1-2",
    );
    expect(over.param).toBe("pick");
    expect(failure("grok:x?pick=2").hint).toBe("Remove pick=2, or ask for more takes with n=2.");
    expect(failure("grok:x?n=3&pick=0").param).toBe("pick");
    expect(failure("grok:x?n=3&pick=two").param).toBe("pick");
  });
});

describe("parseDirective: outputs, alt, style, placeholder, position", () => {
  const d = { tier: "lite" as const, format: "webp" as const, quality: 80 };
  const styled = { ...d, styles: { ink: "black ink line drawing,  white paper", film: "35mm film" } };

  it("reads several widths and formats for as=srcset and as=picture", () => {
    const picture = parseDirective("grok:a fox?w=1280;320;640;320&format=avif;webp&as=picture", d);
    expect(picture.output).toEqual({ as: "picture", widths: [320, 640, 1280], formats: ["avif", "webp"] });
    expect(picture.transform).toMatchObject({ w: 1280, format: "webp" });
    const srcset = parseDirective("grok:a fox?w=320;640&as=srcset", d);
    expect(srcset.output).toEqual({ as: "srcset", widths: [320, 640], formats: ["webp"] });
    expect(parseDirective("grok:a fox", d).output).toEqual({
      as: "metadata",
      widths: [null],
      formats: ["webp"],
    });
  });

  it("changes no generation key for outputs, alt, placeholder or position", () => {
    const key = parseDirective("grok:a fox", d).generationKey;
    for (const params of [
      "w=320;640&as=srcset",
      "alt=A fox",
      "placeholder=color",
      "position=entropy&w=9&h=9",
    ]) {
      expect(parseDirective(`grok:a fox?${params}`, d).generationKey).toBe(key);
    }
  });

  it("says to add as= when several images are asked for one image", () => {
    expect(() => parseDirective("grok:a fox?w=320;640", d)).toThrow(/asks for several images.*as=srcset/);
    expect(() => parseDirective("grok:a fox?format=avif;webp", d)).toThrow(/as=picture/);
    expect(() => parseDirective("grok:a fox?format=avif;webp&as=srcset", d)).toThrow(/holds one format/);
    expect(() => parseDirective("grok:a fox?as=pictures", d)).toThrow(/did you mean "picture"/);
    expect(() => parseDirective("grok:a fox?w=320;6x0&as=srcset", d)).toThrow(/w="6x0" is not accepted/);
  });

  it("takes alt from the param, else the prompt as written", () => {
    expect(parseDirective("grok:a fox, soft light?alt=A%20red%20fox", d).alt).toBe("A red fox");
    expect(parseDirective("grok:a fox,  soft light?style=ink", styled).alt).toBe("a fox, soft light");
  });

  it("reads placeholder and position", () => {
    expect(parseDirective("grok:a fox?placeholder=color", d).placeholder).toBe("color");
    expect(parseDirective("grok:a fox", { ...d, placeholder: true }).placeholder).toBe("blur");
    expect(parseDirective("grok:a fox", d).placeholder).toBe("none");
    expect(() => parseDirective("grok:a fox?placeholder=true", d)).toThrow(/did you mean "blur"/);
    expect(parseDirective("grok:a fox?w=9&h=9&position=attention", d).transform.position).toBe("attention");
    expect(parseDirective("grok:a fox?position=center", d).transform.position).toBeUndefined();
    expect(() => parseDirective("grok:a fox?position=top", d)).toThrow(
      /Accepted values: center, attention, entropy/,
    );
  });

  it("appends the style's text to the prompt sent, so it is part of the key", () => {
    const inked = parseDirective("grok:a fox?style=ink", styled);
    expect(inked.generation.prompt).toBe("a fox, black ink line drawing, white paper");
    expect(inked.style).toBe("ink");
    expect(inked.generationKey).not.toBe(parseDirective("grok:a fox", styled).generationKey);
    const byDefault = parseDirective("grok:a fox", { ...styled, style: "film" });
    expect(byDefault.generation.prompt).toBe("a fox, 35mm film");
    expect(parseDirective("grok:a fox?style=none", { ...styled, style: "film" }).generation.prompt).toBe(
      "a fox",
    );
  });

  it("rejects an unknown style with the accepted names and what was meant", () => {
    const error = (() => {
      try {
        parseDirective("grok:a fox?style=inc", styled);
      } catch (e) {
        return e as GrokImageError;
      }
      throw new Error("expected an error");
    })();
    expect(error.code).toBe("GROK_BAD_DIRECTIVE");
    expect(error.message).toContain('style="inc" is not a name in the styles option; did you mean "ink"?');
    expect(error.message).toContain("Accepted values: ink, film, none");
    expect(error.hint).toBe("Write style=ink instead of style=inc.");
    expect(() => parseDirective("grok:a fox?style=ink", d)).toThrow(/the styles option defines none/);
  });
});
