import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { inspect } from "node:util";
import { AwsV4Signer } from "aws4fetch";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  S3_EMULATOR_ACCESS_KEY_ID,
  S3_EMULATOR_SECRET_ACCESS_KEY,
  type S3Emulator,
  startS3Emulator,
} from "../../../maxapi-emulator/src/index.js";
import { GrokImageError } from "../errors.js";
import { resolveRemoteCache } from "../options/remote-cache-option.js";
import { S3Store } from "./s3-store.js";

/*
 * The S3 client (aws4fetch signatures, undici transport) against the emulator's S3 mode over real HTTP: the two
 * sides share no code, so each conditional write, listing page and refusal below is S3's protocol as both read it.
 */

let s3: S3Emulator;
const SECRET = S3_EMULATOR_SECRET_ACCESS_KEY;
const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  AWS_ACCESS_KEY_ID: S3_EMULATOR_ACCESS_KEY_ID,
  AWS_SECRET_ACCESS_KEY: SECRET,
  AWS_ENDPOINT_URL_S3: s3.url,
  ...extra,
});
const stores: S3Store[] = [];
function store(url = "s3://cache/team site", extra: NodeJS.ProcessEnv = {}): S3Store {
  const remote = resolveRemoteCache(url, env(extra));
  if (!remote) throw new Error("no remote");
  const made = new S3Store(remote, { retries: 2, retryDelayMs: 5, timeoutMs: 5_000 });
  stores.push(made);
  return made;
}
const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.fail("expected a rejection"),
    (error: unknown) => {
      expect(GrokImageError.isInstance(error)).toBe(true);
      return error as GrokImageError;
    },
  );

beforeAll(async () => {
  s3 = await startS3Emulator({ buckets: ["cache"] });
});
beforeEach(async () => {
  s3.reset();
  await s3.setDown(false);
});
afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await s3.close();
});

describe("objects", () => {
  it("writes and reads under the prefix, names with spaces and symbols included", async () => {
    const s = store();
    const put = await s.put("entries/a b+c!.json", Buffer.from("{}"), { contentType: "application/json" });
    expect(put).toMatchObject({ ok: true, etag: expect.stringMatching(/^"[0-9a-f]{32}"$/) });
    expect(s3.listKeys("cache")).toEqual(["team site/entries/a b+c!.json"]);
    const got = await s.get("entries/a b+c!.json");
    expect(got?.body.toString()).toBe("{}");
    expect(got?.etag).toBe(put.ok ? put.etag : "");
    expect(got?.storeTime).toBeInstanceOf(Date);
    expect(await s.get("entries/none.json")).toBeUndefined();
    await s.delete("entries/a b+c!.json");
    await s.delete("entries/a b+c!.json");
    expect(s3.listKeys("cache")).toEqual([]);
  });

  it("create-only writes: the first wins, the second is told the object exists", async () => {
    const s = store();
    const first = await s.put("claims/k.json", Buffer.from("A"), { condition: { ifNoneMatch: "*" } });
    const second = await s.put("claims/k.json", Buffer.from("B"), { condition: { ifNoneMatch: "*" } });
    expect(first.ok).toBe(true);
    expect(second).toEqual({ ok: false, reason: "exists" });
    expect(s3.getObject("cache", "team site/claims/k.json")?.body.toString()).toBe("A");
    expect(s3.counters.preconditionFailed).toBe(1);
  });

  it("compare-and-swap writes: only on the version read", async () => {
    const s = store();
    const first = await s.put("claims/k.json", Buffer.from("v1"));
    if (!first.ok) throw new Error("put failed");
    const swapped = await s.put("claims/k.json", Buffer.from("v2"), { condition: { ifMatch: first.etag } });
    expect(swapped.ok).toBe(true);
    expect(await s.put("claims/k.json", Buffer.from("v3"), { condition: { ifMatch: first.etag } })).toEqual({
      ok: false,
      reason: "changed",
    });
    expect(await s.put("claims/gone.json", Buffer.from("x"), { condition: { ifMatch: first.etag } })).toEqual(
      {
        ok: false,
        reason: "missing",
      },
    );
  });

  it("lists every page of a prefix (more than 1,000 keys)", async () => {
    for (let i = 0; i < 1003; i++)
      s3.putObject("cache", `team site/originals/${String(i).padStart(4, "0")}.png`, "x");
    s3.putObject("cache", "team site/entries/e.json", "{}");
    s3.putObject("cache", "elsewhere/originals/0.png", "x");
    const names: string[] = [];
    for await (const object of store().list("originals/")) names.push(object.name);
    expect(names).toHaveLength(1003);
    expect(names[0]).toBe("originals/0000.png");
    expect(names.at(-1)).toBe("originals/1002.png");
    expect(s3.counters.byOperation.ListObjectsV2).toBe(2);
  });

  it("the emulator answers If-Match on reads and deletes as S3 does (signed requests, no client in between)", async () => {
    const signed = async (method: string, key: string, ifMatch: string) => {
      const { url, headers } = await new AwsV4Signer({
        url: `${s3.url}/cache/${key}`,
        method,
        headers: { "if-match": ifMatch },
        accessKeyId: S3_EMULATOR_ACCESS_KEY_ID,
        secretAccessKey: SECRET,
        service: "s3",
        region: "us-east-1",
      }).sign();
      const res = await fetch(url, { method, headers });
      return { status: res.status, body: await res.text() };
    };
    const put = await store().put("claims/k.json", Buffer.from("v1"));
    if (!put.ok) throw new Error("put failed");
    const stale = '"00000000000000000000000000000000"';
    expect(await signed("GET", "team%20site/claims/k.json", stale)).toMatchObject({ status: 412 });
    expect((await signed("GET", "team%20site/claims/k.json", put.etag)).body).toBe("v1");
    const refused = await signed("DELETE", "team%20site/claims/k.json", stale);
    expect(refused.status).toBe(412);
    expect(refused.body).toContain("<Code>PreconditionFailed</Code>");
    expect(s3.listKeys("cache")).toEqual(["team site/claims/k.json"]);
    expect(await signed("DELETE", "team%20site/claims/k.json", put.etag)).toMatchObject({ status: 204 });
    expect(s3.listKeys("cache")).toEqual([]);
    const missing = await signed("DELETE", "team%20site/claims/k.json", put.etag);
    expect(missing.status).toBe(404);
    expect(missing.body).toContain("<Code>NoSuchKey</Code>");
    expect(s3.counters.preconditionFailed).toBe(2);
  });
});

describe("failures", () => {
  it("retries 5xx, throttling and 409 conflicts, then answers", async () => {
    s3.inject({
      op: "PutObject",
      times: 1,
      fault: { type: "error", status: 409, code: "ConditionalRequestConflict" },
    });
    s3.inject({ op: "PutObject", times: 1, fault: { type: "error", status: 503, code: "SlowDown" } });
    s3.inject({ op: "GetObject", times: 1, fault: { type: "drop" } });
    const s = store();
    expect((await s.put("claims/k.json", Buffer.from("A"), { condition: { ifNoneMatch: "*" } })).ok).toBe(
      true,
    );
    expect((await s.get("claims/k.json"))?.body.toString()).toBe("A");
    expect(s3.counters.byOperation).toMatchObject({ PutObject: 3, GetObject: 2 });
  });

  it("a store that stays down: GROK_REMOTE_CACHE_UNAVAILABLE naming the request", async () => {
    await s3.setDown(true);
    const error = await rejection(store().get("entries/k.json"));
    expect(error.code).toBe("GROK_REMOTE_CACHE_UNAVAILABLE");
    expect(error.message).toContain(
      "s3://cache/team site could not be used: GET entries/k.json failed (ECONNREFUSED) after 3 attempts",
    );
    expect(error.hint).toMatch(/GROK_IMAGE_REMOTE_CACHE/);
  });

  it("a store that keeps failing with 500: GROK_REMOTE_CACHE_UNAVAILABLE with S3's code", async () => {
    s3.inject({
      fault: {
        type: "error",
        status: 500,
        code: "InternalError",
        message: "We encountered an internal error.",
      },
    });
    const error = await rejection(store().get("entries/k.json"));
    expect(error.code).toBe("GROK_REMOTE_CACHE_UNAVAILABLE");
    expect(error.message).toContain(
      "answered 500 (InternalError: We encountered an internal error.) after 3 attempts",
    );
  });

  it("refused credentials: GROK_REMOTE_CACHE_AUTH, at once, with S3's reason and never the secret", async () => {
    const wrong = "not-the-secret-but-still-secret-42";
    const bad = await rejection(store(undefined, { AWS_SECRET_ACCESS_KEY: wrong }).get("entries/k.json"));
    expect(bad.code).toBe("GROK_REMOTE_CACHE_AUTH");
    expect(bad.message).toContain("SignatureDoesNotMatch");
    const unknown = await rejection(
      store(undefined, { AWS_ACCESS_KEY_ID: "AKIANOBODY" }).get("entries/k.json"),
    );
    expect(unknown.message).toContain("InvalidAccessKeyId");
    s3.inject({
      times: 1,
      fault: { type: "error", status: 403, code: "AccessDenied", message: "Access Denied" },
    });
    expect((await rejection(store().get("entries/k.json"))).message).toContain("AccessDenied");
    // 403s are not retried: one request each.
    expect(s3.counters.requests).toBe(3);
    const region = await rejection(store(undefined, { AWS_REGION: "eu-west-3" }).get("entries/k.json"));
    expect(region.code).toBe("GROK_REMOTE_CACHE_AUTH");
    expect(region.hint).toContain('signed for the region "eu-west-3"');
    for (const error of [bad, unknown, region]) {
      const shown = `${error.message} ${error.hint} ${inspect(error, { depth: 5 })}`;
      expect(shown).not.toContain(wrong);
      expect(shown).not.toContain(SECRET);
    }
  });

  it("no credentials at all: GROK_REMOTE_CACHE_AUTH before any request", async () => {
    const error = await rejection(
      store(undefined, { AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "" }).get("entries/k.json"),
    );
    expect(error.code).toBe("GROK_REMOTE_CACHE_AUTH");
    expect(error.hint).toContain("AWS_ACCESS_KEY_ID");
    expect(s3.counters.requests).toBe(0);
  });

  it("a role that gave no keys is asked again after a while, not on every request", async () => {
    let answering = false;
    const asked: string[] = [];
    // The container credentials endpoint, on a real HTTP server: down at first, then with the role's keys.
    const server = createServer((req, res) => {
      asked.push(`${req.method} ${req.url}`);
      if (!answering) {
        res.statusCode = 500;
        return res.end();
      }
      res.end(
        JSON.stringify({
          AccessKeyId: S3_EMULATOR_ACCESS_KEY_ID,
          SecretAccessKey: SECRET,
          Expiration: new Date(Date.now() + 3_600_000).toISOString(),
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const remote = resolveRemoteCache("s3://cache/team site", {
      AWS_ENDPOINT_URL_S3: s3.url,
      AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://127.0.0.1:${(server.address() as AddressInfo).port}/creds`,
    });
    if (!remote) throw new Error("no remote");
    const s = new S3Store(remote, { retries: 0, timeoutMs: 5_000, roleRetryMs: 300 });
    stores.push(s);
    try {
      expect((await rejection(s.get("entries/k.json"))).code).toBe("GROK_REMOTE_CACHE_AUTH");
      answering = true;
      // Within the while: the answer stands, for every request meanwhile.
      const meanwhile = await Promise.all([1, 2, 3].map(() => rejection(s.get("entries/k.json"))));
      expect(meanwhile.map((error) => error.code)).toEqual(Array(3).fill("GROK_REMOTE_CACHE_AUTH"));
      expect(asked).toEqual(["GET /creds"]);
      expect(s3.counters.requests).toBe(0);

      await sleep(350);
      expect(await s.get("entries/k.json")).toBeUndefined();
      expect(asked).toEqual(["GET /creds", "GET /creds"]);
      expect(s3.counters.requests).toBe(1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("a bucket that does not exist says so", async () => {
    const error = await rejection(store("s3://no-such-bucket/x").get("entries/k.json"));
    expect(error.code).toBe("GROK_REMOTE_CACHE_UNAVAILABLE");
    expect(error.message).toContain('the bucket "no-such-bucket" does not exist');
  });
});
