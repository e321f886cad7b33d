import { describe, expect, it } from "vitest";
import { parseDirective } from "../directive/parse-directive.js";
import { forHost, hostEncodeNotice } from "./host-handoff.js";

const defaults = { tier: "lite" as const, format: "webp" as const, quality: 80 };
const astro = (raw: string) => forHost(parseDirective(raw, defaults), "metadata");

describe("forHost", () => {
  it("hands Astro the source of a plain directive, and keeps encoded files for the shapes and for plain Vite", () => {
    expect(astro("grok:a fox?w=300").handoff).toBe("source");
    expect(astro("grok:a fox?w=300;600&as=srcset").handoff).toBeUndefined();
    expect(forHost(parseDirective("grok:a fox", defaults), "url").handoff).toBeUndefined();
  });
});

describe("hostEncodeNotice", () => {
  it("names the directive and the params Astro's options override, once per directive", () => {
    const notice = hostEncodeNotice(astro("grok:a fox?format=avif&w=300&quality=60"));
    expect(notice).toContain(
      "grok:a fox?format=avif&w=300&quality=60: format= and quality= have no effect in Astro",
    );
    expect(notice).toContain("<Image format quality>");
    expect(hostEncodeNotice(astro("grok:a fox?w=300"))).toBeUndefined();
    expect(hostEncodeNotice(astro("grok:a format=avif poster"))).toBeUndefined();
    expect(hostEncodeNotice(astro("grok:a fox?format=avif;webp&as=picture"))).toBeUndefined();
  });
});
