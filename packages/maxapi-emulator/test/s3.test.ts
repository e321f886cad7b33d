import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { startS3Emulator } from "../src/index.js";
import { type SignedRequest, verifySigV4 } from "../src/s3/verify-sigv4.js";

/*
 * The signature check against the worked examples of AWS's S3 documentation ("Examples: Signature Calculations",
 * Signature Version 4, Authorization header): an implementation that agrees with them agrees with S3. The HTTP
 * behaviour of signed requests is exercised through a real client in vite-plugin-grok-image's storage tests.
 */
describe("SigV4 verification (AWS's documented examples)", () => {
  const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  const ID = "AKIAIOSFODNN7EXAMPLE";
  const EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  const HOST = "examplebucket.s3.amazonaws.com";
  const DATE = "20130524T000000Z";
  const options = {
    lookup: (id: string) => (id === ID ? { accessKeyId: ID, secretAccessKey: SECRET } : undefined),
    region: "us-east-1",
    now: Date.UTC(2013, 4, 24),
    maxSkewMs: 15 * 60_000,
  };
  const auth = (signed: string, signature: string) =>
    `AWS4-HMAC-SHA256 Credential=${ID}/20130524/us-east-1/s3/aws4_request,SignedHeaders=${signed},Signature=${signature}`;
  const getObject = (signature: string): SignedRequest => ({
    method: "GET",
    rawPath: "/test.txt",
    rawQuery: "",
    headers: {
      host: HOST,
      range: "bytes=0-9",
      "x-amz-content-sha256": EMPTY,
      "x-amz-date": DATE,
      authorization: auth("host;range;x-amz-content-sha256;x-amz-date", signature),
    },
  });

  it("accepts GET Object, PUT Object, GET lifecycle and a listing as signed in the docs", () => {
    expect(
      verifySigV4(getObject("f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"), options),
    ).toMatchObject({ ok: true });
    const put: SignedRequest = {
      method: "PUT",
      rawPath: "/test%24file.text",
      rawQuery: "",
      headers: {
        host: HOST,
        date: "Fri, 24 May 2013 00:00:00 GMT",
        "x-amz-storage-class": "REDUCED_REDUNDANCY",
        "x-amz-content-sha256": "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
        "x-amz-date": DATE,
        authorization: auth(
          "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
          "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
        ),
      },
    };
    expect(verifySigV4(put, options)).toMatchObject({ ok: true });
    const bucket = (rawQuery: string, signature: string): SignedRequest => ({
      method: "GET",
      rawPath: "/",
      rawQuery,
      headers: {
        host: HOST,
        "x-amz-content-sha256": EMPTY,
        "x-amz-date": DATE,
        authorization: auth("host;x-amz-content-sha256;x-amz-date", signature),
      },
    });
    expect(
      verifySigV4(
        bucket("lifecycle", "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"),
        options,
      ),
    ).toMatchObject({ ok: true });
    expect(
      verifySigV4(
        bucket("max-keys=2&prefix=J", "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"),
        options,
      ),
    ).toMatchObject({ ok: true });
  });

  it("refuses what S3 refuses, with S3's codes", () => {
    const good = getObject("f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    const code = (req: SignedRequest, opts = options) => {
      const result = verifySigV4(req, opts);
      return result.ok ? "ok" : `${result.status} ${result.code}`;
    };
    // One changed character of the signature, of a signed header, or of the path.
    expect(code(getObject("f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb42"))).toBe(
      "403 SignatureDoesNotMatch",
    );
    expect(code({ ...good, headers: { ...good.headers, range: "bytes=0-8" } })).toBe(
      "403 SignatureDoesNotMatch",
    );
    expect(code({ ...good, rawPath: "/test.txt2" })).toBe("403 SignatureDoesNotMatch");
    // The right signature checked with another secret.
    expect(code(good, { ...options, lookup: (id) => ({ accessKeyId: id, secretAccessKey: "other" }) })).toBe(
      "403 SignatureDoesNotMatch",
    );
    expect(code(good, { ...options, lookup: () => undefined })).toBe("403 InvalidAccessKeyId");
    expect(code(good, { ...options, region: "eu-west-1" })).toBe("400 AuthorizationHeaderMalformed");
    expect(code(good, { ...options, now: Date.UTC(2013, 4, 24, 1) })).toBe("403 RequestTimeTooSkewed");
    expect(code({ ...good, headers: { ...good.headers, authorization: undefined } })).toBe(
      "403 AccessDenied",
    );
    // An unsigned x-amz-* header could be changed on the way.
    expect(code({ ...good, headers: { ...good.headers, "x-amz-meta-extra": "1" } })).toBe("403 AccessDenied");
    // A temporary key's session token must come along.
    const withToken = {
      ...options,
      lookup: () => ({ accessKeyId: ID, secretAccessKey: SECRET, sessionToken: "t" }),
    };
    expect(code(good, withToken)).toBe("403 InvalidToken");
  });
});

describe("the S3 emulator over HTTP", () => {
  let emulator: Awaited<ReturnType<typeof startS3Emulator>>;
  beforeEach(async () => {
    emulator ??= await startS3Emulator({ buckets: ["cache"] });
    emulator.reset();
    await emulator.setDown(false);
  });
  afterAll(() => emulator?.close());

  it("answers an unsigned request with 403 AccessDenied in S3's error XML", async () => {
    const res = await fetch(`${emulator.url}/cache/some/key`);
    expect(res.status).toBe(403);
    const text = await res.text();
    expect(text).toContain("<Code>AccessDenied</Code>");
    expect(res.headers.get("x-amz-request-id")).toMatch(/^[0-9A-F]{16}$/);
    expect(emulator.counters.authFailures).toBe(1);
  });

  it("injects errors and dropped connections by operation and key, before authentication", async () => {
    emulator.inject({
      op: "GetObject",
      key: /^claims\//,
      times: 1,
      fault: { type: "error", status: 503, code: "SlowDown" },
    });
    emulator.inject({ op: "PutObject", fault: { type: "drop" } });
    const slow = await fetch(`${emulator.url}/cache/claims/k.json`);
    expect(slow.status).toBe(503);
    expect(await slow.text()).toContain("<Code>SlowDown</Code>");
    // Spent: the next one reaches authentication.
    expect((await fetch(`${emulator.url}/cache/claims/k.json`)).status).toBe(403);
    await expect(fetch(`${emulator.url}/cache/a`, { method: "PUT", body: "x" })).rejects.toThrow();
    expect(emulator.counters.byOperation).toMatchObject({ GetObject: 2, PutObject: 1 });
  });

  it("goes down (connection refused) and comes back on the same port", async () => {
    await emulator.setDown(true);
    await expect(fetch(`${emulator.url}/cache/a`)).rejects.toThrow();
    await emulator.setDown(false);
    expect((await fetch(`${emulator.url}/cache/a`)).status).toBe(403);
  });

  it("lets a test read, write and damage objects directly", () => {
    emulator.putObject("cache", "originals/a.png", Buffer.from("bytes"));
    expect(emulator.getObject("cache", "originals/a.png")?.body.toString()).toBe("bytes");
    expect(emulator.listKeys("cache", "originals/")).toEqual(["originals/a.png"]);
    emulator.deleteObject("cache", "originals/a.png");
    expect(emulator.listKeys("cache")).toEqual([]);
    expect(() => emulator.getObject("nope", "a")).toThrow(/no bucket/);
  });
});

describe("the maxapi-s3-emulator command", () => {
  it("prints the variables a build needs, applies a faults file, and exits cleanly on SIGTERM", async () => {
    const packageDir = fileURLToPath(new URL("..", import.meta.url));
    execFileSync(
      process.execPath,
      [join(packageDir, "../../node_modules/typescript/bin/tsc"), "-b", packageDir],
      {
        stdio: "inherit",
      },
    );
    const dir = await mkdtemp(join(tmpdir(), "s3-emulator-cli-"));
    const faults = join(dir, "faults.json");
    await writeFile(
      faults,
      JSON.stringify({
        faults: [{ key: "/^slow\\//", fault: { type: "error", status: 503, code: "SlowDown" } }],
      }),
    );
    const child = spawn(
      process.execPath,
      [join(packageDir, "dist/s3-cli.js"), "--port", "0", "--bucket", "ci", "--faults", faults],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    try {
      const lines: string[] = [];
      for await (const line of createInterface({ input: child.stdout })) {
        lines.push(line);
        if (lines.length === 6) break;
      }
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(lines[0] ?? "")?.[1];
      expect(url).toBeDefined();
      expect(lines.slice(1)).toEqual([
        `AWS_ENDPOINT_URL_S3=${url}`,
        "AWS_REGION=us-east-1",
        "AWS_ACCESS_KEY_ID=emulator-access-key",
        "AWS_SECRET_ACCESS_KEY=emulator-secret-key",
        "GROK_IMAGE_REMOTE_CACHE=s3://ci/grok-images",
      ]);
      expect((await fetch(`${url}/ci/slow/x`)).status).toBe(503);
      expect((await fetch(`${url}/ci/fast/x`)).status).toBe(403);
    } finally {
      child.kill("SIGTERM");
      const [code] = await once(child, "exit");
      expect(code).toBe(0);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
