import { describe, expect, it } from "vitest";
import { imageSize } from "../src/image-size.js";
import { escapeXml, wrap } from "../src/render-image.js";
import { createTimestamper } from "../src/timestamp.js";
import { isPrivateUrl } from "../src/webhook.js";
import { LITE, PRO } from "./helpers.js";

describe("isPrivateUrl", () => {
  it.each([
    "http://localhost/x",
    "http://app.localhost/x",
    "http://127.0.0.1:8080/x",
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest",
    "http://0.0.0.0/",
    "http://[::1]/",
    "http://[fd00::1]/",
    "http://[::ffff:127.0.0.1]/",
  ])("refuses %s", (url) => expect(isPrivateUrl(url)).toBe(true));

  it.each(["https://example.com/hook", "http://8.8.8.8/", "http://172.32.0.1/", "http://[2001:db8::1]/"])(
    "allows %s",
    (url) => expect(isPrivateUrl(url)).toBe(false),
  );
});

describe("imageSize", () => {
  it("lets the first shape word of a lite prompt win", () => {
    expect(imageSize(LITE, "a tall tower under a wide sky")).toEqual({ width: 720, height: 1280 });
    expect(imageSize(LITE, "panorama banner")).toEqual({ width: 1280, height: 720 });
  });

  it("ignores prompt words when standard or pro get a ratio", () => {
    expect(imageSize(PRO, "a tall tower", "16:9", "720p")).toEqual({ width: 1280, height: 720 });
  });
});

describe("wrap and escapeXml", () => {
  it("wraps on words, cuts long words and ends overflow with an ellipsis", () => {
    expect(wrap("one two three four", 9, 5)).toEqual(["one two", "three", "four"]);
    expect(wrap("abcdefghij", 4, 5)).toEqual(["abcd", "efgh", "ij"]);
    expect(wrap("a b c d e f", 1, 2)).toEqual(["a", "…"]);
  });

  it("escapes markup and strips characters XML forbids", () => {
    expect(escapeXml(`<a href="x">&'\u0001`)).toBe("&#60;a href=&#34;x&#34;&#62;&#38;&#39;");
  });
});

describe("timestamps", () => {
  it("have six fractional digits, end in Z and never go backwards within a millisecond", () => {
    const stamp = createTimestamper(() => Date.UTC(2026, 1, 10, 21, 54, 46, 686));
    const [a, b] = [stamp(), stamp()];
    expect(a).toMatch(/^2026-02-10T21:54:46\.686\d{3}Z$/);
    expect((b as string) > (a as string)).toBe(true);
  });
});
