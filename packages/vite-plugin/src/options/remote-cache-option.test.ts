import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

  it("without keys in the environment, takes the keys and region of the AWS profile AWS_PROFILE names", async () => {
    const home = await mkdtemp(join(tmpdir(), "grok-aws-home-"));
    try {
      await mkdir(join(home, ".aws"));
      await writeFile(
        join(home, ".aws", "credentials"),
        `[default]\naws_access_key_id = AKIADEFAULT000000001\naws_secret_access_key = default/secret\n\n` +
          `[team.ci]\naws_access_key_id=${KEYS.AWS_ACCESS_KEY_ID}\naws_secret_access_key=${KEYS.AWS_SECRET_ACCESS_KEY}\n` +
          `aws_session_token = ${KEYS.AWS_SESSION_TOKEN}\n`,
      );
      await writeFile(
        join(home, ".aws", "config"),
        "[default]\nregion = eu-central-1\n[profile team.ci]\nregion = eu-west-3\n" +
          "[profile sso]\nsso_session = corp\nregion = us-west-2\n" +
          "[profile minio]\nendpoint_url = http://minio.internal:9000/\n",
      );
      const env = { HOME: home, GROK_IMAGE_REMOTE_CACHE: "s3://team/site" };
      const team = resolve(undefined, { ...env, AWS_PROFILE: "team.ci" });
      expect(team?.credentials()).toEqual({
        accessKeyId: KEYS.AWS_ACCESS_KEY_ID,
        secretAccessKey: KEYS.AWS_SECRET_ACCESS_KEY,
        sessionToken: KEYS.AWS_SESSION_TOKEN,
      });
      expect([team?.region, team?.endpoint]).toEqual(["eu-west-3", "https://s3.eu-west-3.amazonaws.com"]);
      // A profile may name an S3-compatible store; the environment's endpoint wins.
      expect(resolve(undefined, { ...env, AWS_PROFILE: "minio" })).toMatchObject({
        endpoint: "http://minio.internal:9000",
        pathStyle: true,
      });
      expect(
        resolve(undefined, { ...env, AWS_PROFILE: "minio", AWS_ENDPOINT_URL_S3: "http://s3.local:9000" })
          ?.endpoint,
      ).toBe("http://s3.local:9000");
      // No AWS_PROFILE: the default profile. The environment wins over any profile, keys and region alike.
      expect(resolve(undefined, env)?.credentials()?.accessKeyId).toBe("AKIADEFAULT000000001");
      expect(resolve(undefined, env)?.region).toBe("eu-central-1");
      const fromEnv = resolve(undefined, {
        ...env,
        AWS_PROFILE: "team.ci",
        AWS_REGION: "ap-south-1",
        ...KEYS,
      });
      expect([fromEnv?.region, fromEnv?.credentials()?.accessKeyId]).toEqual([
        "ap-south-1",
        KEYS.AWS_ACCESS_KEY_ID,
      ]);
      // A profile that gets its keys at run time, or one that is not there, says what to do.
      const sso = resolve(undefined, { ...env, AWS_PROFILE: "sso" });
      expect(sso?.credentials()).toBeUndefined();
      expect(sso?.region).toBe("us-west-2");
      expect(sso?.credentialsHint()).toContain("aws configure export-credentials --profile sso --format env");
      const typo = resolve(undefined, { ...env, AWS_PROFILE: "tema" });
      expect(typo?.credentials()).toBeUndefined();
      expect(typo?.credentialsHint()).toContain('AWS_PROFILE names the profile "tema", which neither');
      // The files may be named instead of found under HOME; no dump shows what they hold.
      const named = resolve(undefined, {
        GROK_IMAGE_REMOTE_CACHE: "s3://team/site",
        AWS_SHARED_CREDENTIALS_FILE: join(home, ".aws", "credentials"),
        AWS_PROFILE: "team.ci",
      });
      expect(named?.credentials()?.secretAccessKey).toBe(KEYS.AWS_SECRET_ACCESS_KEY);
      expect(inspect(named, { depth: 10, showHidden: true, getters: true })).not.toContain(
        KEYS.AWS_SECRET_ACCESS_KEY,
      );
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it("knows where the role this machine runs as gives its keys, and refuses to send a token in the clear", () => {
    const on = { GROK_IMAGE_REMOTE_CACHE: "s3://team/site" };
    expect(resolve(undefined, on)?.credentialSource()).toEqual({
      kind: "instance",
      endpoint: "http://169.254.169.254",
    });
    expect(
      resolve(undefined, { ...on, AWS_EC2_METADATA_DISABLED: "true" })?.credentialSource(),
    ).toBeUndefined();
    // A named profile alone decides, as for the AWS tools.
    expect(resolve(undefined, { ...on, AWS_PROFILE: "team" })?.credentialSource()).toBeUndefined();
    const ecs = resolve(undefined, {
      ...on,
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "/v2/credentials/abc",
      AWS_CONTAINER_AUTHORIZATION_TOKEN: "container-secret-token",
    });
    expect(ecs?.credentialSource()).toMatchObject({
      kind: "container",
      url: "http://169.254.170.2/v2/credentials/abc",
    });
    expect(inspect(ecs, { depth: 10, showHidden: true, getters: true })).not.toContain(
      "container-secret-token",
    );
    expect(
      resolve(undefined, {
        ...on,
        AWS_CONTAINER_CREDENTIALS_FULL_URI: "https://creds.internal/role",
      })?.credentialSource(),
    ).toMatchObject({ kind: "container", url: "https://creds.internal/role" });
    const clear = badOption(() =>
      resolve(undefined, { ...on, AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://10.0.0.7/role" }),
    );
    expect(clear).toContain("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    expect(clear).toContain("https, or http to a loopback, ECS or EKS address");
  });

  it("a file:// URL is a shared directory", () => {
    expect(resolve("file:///mnt/team/grok")).toMatchObject({ kind: "file", bucket: "/mnt/team/grok" });
  });
});
