import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { GrokImageError } from "../errors.js";
import { resolveOptions } from "./resolve-options.js";

const KEYS = {
  AWS_ACCESS_KEY_ID: "AKIAEXAMPLEKEY000001",
  AWS_SECRET_ACCESS_KEY: "very/secret+key-value-0123456789",
  AWS_SESSION_TOKEN: "session-token-value-abcdef",
};
const resolve = (remoteCache: unknown, env: NodeJS.ProcessEnv = {}) =>
  resolveOptions({ remoteCache } as never, { root: "/site", env, command: "build" }).remoteCache;
const badOption = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    expect(GrokImageError.isInstance(error) && error.code).toBe("GROK_BAD_OPTION");
    return (error as GrokImageError).message;
  }
  return expect.fail("expected GROK_BAD_OPTION");
};

describe("the remoteCache option", () => {
  it("is off unless the option or GROK_IMAGE_REMOTE_CACHE sets it; false turns the variable off", () => {
    expect(resolve(undefined)).toBeUndefined();
    expect(resolve(undefined, { GROK_IMAGE_REMOTE_CACHE: "s3://team/site" })?.url).toBe("s3://team/site");
    expect(resolve(false, { GROK_IMAGE_REMOTE_CACHE: "s3://team/site" })).toBeUndefined();
    expect(resolve(undefined, { GROK_IMAGE_REMOTE_CACHE: " " })).toBeUndefined();
  });

  it("reads the bucket and prefix, and AWS S3's endpoint for the region", () => {
    expect(resolve("s3://team-cache/site/images/", { AWS_REGION: "eu-west-3" })).toMatchObject({
      kind: "s3",
      bucket: "team-cache",
      prefix: "site/images",
      endpoint: "https://s3.eu-west-3.amazonaws.com",
      region: "eu-west-3",
      pathStyle: false,
    });
    expect(resolve("s3://team-cache")).toMatchObject({
      prefix: "",
      region: "us-east-1",
      endpoint: "https://s3.amazonaws.com",
    });
    // A dotted bucket cannot be a TLS host name under *.amazonaws.com.
    expect(resolve("s3://team.cache/x")?.pathStyle).toBe(true);
  });

  it("takes an S3-compatible endpoint from the option or AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, path-style", () => {
    const r2 = "https://abc123.r2.cloudflarestorage.com";
    expect(resolve({ url: "s3://site", endpoint: `${r2}/`, region: "auto" })).toMatchObject({
      endpoint: r2,
      region: "auto",
      pathStyle: true,
    });
    expect(resolve("s3://site", { AWS_ENDPOINT_URL: "http://127.0.0.1:9000" })?.endpoint).toBe(
      "http://127.0.0.1:9000",
    );
    expect(
      resolve("s3://site", {
        AWS_ENDPOINT_URL: "http://127.0.0.1:9000",
        AWS_ENDPOINT_URL_S3: "http://127.0.0.1:9001",
      })?.endpoint,
    ).toBe("http://127.0.0.1:9001");
  });

  it("names the option or variable of a bad value, and never echoes credentials in a URL", () => {
    expect(badOption(() => resolve("https://bucket/x"))).toContain('option "remoteCache"');
    expect(badOption(() => resolve(undefined, { GROK_IMAGE_REMOTE_CACHE: "s3://UPPER/x" }))).toContain(
      "environment variable GROK_IMAGE_REMOTE_CACHE",
    );
    expect(badOption(() => resolve({ url: "s3://site", accessKeyId: "x" }))).toContain(
      'unknown field "accessKeyId"',
    );
    const message = badOption(() =>
      resolve("s3://site", { AWS_ENDPOINT_URL_S3: "http://user:hunter2@minio:9000" }),
    );
    expect(message).toContain("AWS_ENDPOINT_URL_S3");
    expect(message).not.toContain("hunter2");
    expect(badOption(() => resolve({ url: "s3://site", region: "EU WEST" }))).toContain(
      'option "remoteCache.region"',
    );
  });

  it("reads the credentials from the environment and shows them in no dump of the options", () => {
    const options = resolveOptions(
      { remoteCache: "s3://site" },
      { root: "/site", env: KEYS, command: "build" },
    );
    expect(options.remoteCache?.credentials()).toEqual({
      accessKeyId: KEYS.AWS_ACCESS_KEY_ID,
      secretAccessKey: KEYS.AWS_SECRET_ACCESS_KEY,
      sessionToken: KEYS.AWS_SESSION_TOKEN,
    });
    const dumps = [
      JSON.stringify(options),
      inspect(options, { depth: 10, showHidden: true, getters: true }),
      inspect(options.remoteCache, { depth: 10, showHidden: true, getters: true }),
      JSON.stringify({ ...options }),
    ].join("\n");
    for (const secret of Object.values(KEYS)) expect(dumps).not.toContain(secret);
    expect(resolve("s3://site", {})?.credentials()).toBeUndefined();
  });

  it("a file:// URL is a shared directory", () => {
    expect(resolve("file:///mnt/team/grok")).toMatchObject({ kind: "file", bucket: "/mnt/team/grok" });
  });
});
