import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { AwsV4Signer } from "aws4fetch";
import { Agent, type Dispatcher, request } from "undici";
import type { RemoteCredentials, ResolvedRemoteCache } from "../types.js";
import type { ListedObject, ObjectStore, PutOptions, PutResult, StoredObject } from "./object-store.js";
import { REFRESH_BEFORE_MS, type RoleCredentials, roleCredentials } from "./role-credentials.js";
import { noCredentialsError, remoteAuthError, remoteUnavailableError } from "./store-errors.js";

/*
 * S3 through signed requests: aws4fetch computes the SigV4 signature (WebCrypto, no dependencies), undici sends
 * the request, and this file decides what is retried and what each S3 answer means. Every body is signed by its
 * sha256 (not UNSIGNED-PAYLOAD), so the store itself refuses an upload that was altered on the way.
 */

export interface S3StoreOptions {
  /** @default an Agent of this store, closed by `close()` */
  readonly dispatcher?: Dispatcher | undefined;
  /** Retries after a network error, a 5xx, a 429 or a 409 conflict. @default 2 */
  readonly retries?: number | undefined;
  /** First retry delay, doubling, randomized ×0.5–1.5. @default 250 */
  readonly retryDelayMs?: number | undefined;
  /** Connect, headers and between-chunk timeout of one request: S3 answers in milliseconds. @default 15_000 */
  readonly timeoutMs?: number | undefined;
  readonly userAgent?: string | undefined;
  /**
   * How long a machine whose role gave no keys is taken at its word before it is asked again: a dev server
   * outlives a metadata service that was briefly unreachable, and a machine with no role is not asked per request.
   * @default 60_000
   */
  readonly roleRetryMs?: number | undefined;
}

const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/** An original is at most 50 MiB (the download limit); entries and claims are a few KB. */
const MAX_OBJECT_BYTES = 64 * 1024 * 1024;
/** Answers that mean "try again": throttling, server trouble, a body damaged in transit, a write race. */
const RETRYABLE_STATUS = new Set([408, 409, 429, 500, 502, 503, 504]);
const RETRYABLE_CODES = new Set([
  "XAmzContentSHA256Mismatch",
  "BadDigest",
  "IncompleteBody",
  "RequestTimeout",
]);
/** 403 codes that are about who is asking. */
const AUTH_CODES = new Set([
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "AccessDenied",
  "InvalidToken",
  "ExpiredToken",
  "TokenRefreshRequired",
  "RequestTimeTooSkewed",
  "AuthorizationHeaderMalformed",
  "InvalidArgument",
]);

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** One S3 answer, parsed enough to decide: its status and S3 error code. */
class S3Failure extends Error {
  readonly answer: Answer | undefined;
  readonly code: string;
  readonly retryable: boolean;

  constructor(answer: Answer | undefined, code: string, retryable: boolean, cause?: unknown) {
    super(code, cause === undefined ? undefined : { cause });
    this.answer = answer;
    this.code = code;
    this.retryable = retryable;
  }
}

/** `a/b c` → `a/b%20c`: each segment percent-encoded as S3 expects (RFC 3986 unreserved kept). */
function encodeKey(key: string): string {
  return key
    .split("/")
    .map((segment) =>
      encodeURIComponent(segment).replace(
        /[!'()*]/g,
        (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
      ),
    )
    .join("/");
}

function header(answer: Answer, name: string): string | undefined {
  const value = answer.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function dateHeader(answer: Answer, name: string): Date | undefined {
  const text = header(answer, name);
  const time = text === undefined ? Number.NaN : Date.parse(text);
  return Number.isNaN(time) ? undefined : new Date(time);
}

function xmlText(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(xml);
  return m?.[1] === undefined ? undefined : decodeXml(m[1]);
}

function decodeXml(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) => {
    if (e.startsWith("#x")) return String.fromCodePoint(Number.parseInt(e.slice(2), 16));
    if (e.startsWith("#")) return String.fromCodePoint(Number(e.slice(1)));
    return { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" }[e] as string;
  });
}

/** The network error code behind an undici failure (`ECONNREFUSED`, `UND_ERR_CONNECT_TIMEOUT`...). */
function networkCode(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return error instanceof Error ? error.name : "network error";
}

export class S3Store implements ObjectStore {
  readonly url: string;
  readonly #remote: ResolvedRemoteCache;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly #retries: number;
  readonly #retryDelayMs: number;
  readonly #timeoutMs: number;
  readonly #userAgent: string;
  readonly #signingCache = new Map<string, ArrayBuffer>();
  #role: Promise<RoleCredentials | undefined> | undefined;
  /** Why the profile's credential process last gave no keys, when it did. */
  #roleFailure: string | undefined;
  /** When the role was last asked for its keys (ms since the epoch). */
  #roleAskedAt = 0;
  readonly #roleRetryMs: number;

  constructor(remote: ResolvedRemoteCache, options: S3StoreOptions = {}) {
    this.url = remote.url;
    this.#remote = remote;
    this.#ownsDispatcher = options.dispatcher === undefined;
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    this.#dispatcher =
      options.dispatcher ??
      new Agent({
        connect: { timeout: Math.min(10_000, this.#timeoutMs) },
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
        // Connections idle between a build's requests are not kept long: a finished build must be able to exit.
        keepAliveTimeout: 4_000,
      });
    this.#retries = options.retries ?? 2;
    this.#retryDelayMs = options.retryDelayMs ?? 250;
    this.#roleRetryMs = options.roleRetryMs ?? 60_000;
    this.#userAgent = options.userAgent ?? "vite-plugin-grok-image (shared cache)";
  }

  /** The object's key in the bucket. */
  #key(name: string): string {
    return this.#remote.prefix ? `${this.#remote.prefix}/${name}` : name;
  }

  #url(key: string | undefined, query?: URLSearchParams): URL {
    const { endpoint, bucket, pathStyle } = this.#remote;
    const base = new URL(endpoint);
    const path = key === undefined ? "" : encodeKey(key);
    const url = pathStyle
      ? new URL(`${base.origin}${base.pathname.replace(/\/$/, "")}/${bucket}/${path}`)
      : new URL(`${base.protocol}//${bucket}.${base.host}${base.pathname.replace(/\/$/, "")}/${path}`);
    if (query) url.search = query.toString();
    return url;
  }

  /**
   * The keys to sign with: the environment's or the profile's, else the role this machine runs as (fetched once,
   * and again shortly before they expire; a machine whose role gave none is asked again after `roleRetryMs`).
   */
  async #credentials(signal: AbortSignal | undefined): Promise<RemoteCredentials> {
    const fixed = this.#remote.credentials();
    if (fixed) return fixed;
    const source = this.#remote.credentialSource();
    if (source) {
      const held = await this.#role;
      const now = Date.now();
      const expiring = held?.expiresAt !== undefined && held.expiresAt - now < REFRESH_BEFORE_MS;
      const again = held === undefined && now - this.#roleAskedAt >= this.#roleRetryMs;
      if (this.#role === undefined || expiring || again) {
        this.#roleAskedAt = now;
        this.#roleFailure = undefined;
        this.#role = roleCredentials(source, this.#dispatcher, signal).catch((error: unknown) => {
          // A credential process's failure is said in words of ours; an endpoint's could name its path (a task's id).
          if (source.kind === "process") this.#roleFailure = (error as Error).message;
          return undefined;
        });
      }
      const role = await this.#role;
      if (role) return role;
    }
    const hint = this.#remote.credentialsHint();
    throw noCredentialsError(this.url, this.#roleFailure ? `${this.#roleFailure} ${hint}` : hint);
  }

  /** One request, signed anew for each attempt, with the retry policy above. */
  async #send(
    method: "GET" | "PUT" | "DELETE",
    what: string,
    target: { key?: string; query?: URLSearchParams },
    init: { body?: Buffer; headers?: Record<string, string>; signal?: AbortSignal | undefined } = {},
  ): Promise<Answer> {
    const credentials = await this.#credentials(init.signal);
    const url = this.#url(target.key, target.query);
    let failure: S3Failure | undefined;
    for (let attempt = 0; attempt <= this.#retries; attempt++) {
      if (attempt > 0) {
        const delay = this.#retryDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random());
        await sleep(delay, undefined, init.signal ? { signal: init.signal } : undefined);
      }
      try {
        return await this.#attempt(method, url, credentials, init);
      } catch (error) {
        if (!(error instanceof S3Failure)) throw error;
        failure = error;
        if (!error.retryable || init.signal?.aborted) break;
      }
    }
    throw this.#toError(method, what, failure as S3Failure);
  }

  async #attempt(
    method: string,
    url: URL,
    credentials: RemoteCredentials,
    init: { body?: Buffer; headers?: Record<string, string>; signal?: AbortSignal | undefined },
  ): Promise<Answer> {
    const body = init.body;
    const signer = new AwsV4Signer({
      method,
      url: url.href,
      headers: {
        ...init.headers,
        "x-amz-content-sha256": body ? createHash("sha256").update(body).digest("hex") : EMPTY_SHA256,
      },
      // No body: the signature covers its sha256 (the header above); the bytes themselves go out through undici.
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}),
      service: "s3",
      region: this.#remote.region,
      cache: this.#signingCache,
    });
    const signed = await signer.sign();
    const headers: Record<string, string> = { "user-agent": this.#userAgent };
    signed.headers.forEach((value, name) => {
      headers[name] = value;
    });
    let response: Dispatcher.ResponseData;
    const chunks: Buffer[] = [];
    try {
      response = await request(url, {
        dispatcher: this.#dispatcher,
        method: method as Dispatcher.HttpMethod,
        headers,
        body: body ?? null,
        signal: init.signal ?? null,
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
      });
      let size = 0;
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_OBJECT_BYTES) {
          response.body.destroy();
          throw new S3Failure(undefined, "the answer is larger than 64 MiB", false);
        }
        chunks.push(chunk);
      }
    } catch (error) {
      if (error instanceof S3Failure) throw error;
      if (init.signal?.aborted) throw error;
      throw new S3Failure(undefined, networkCode(error), true, error);
    }
    const answer: Answer = {
      status: response.statusCode,
      headers: response.headers,
      body: Buffer.concat(chunks),
    };
    if (answer.status < 300 || answer.status === 304) return answer;
    const code =
      (header(answer, "content-type")?.includes("xml")
        ? xmlText(answer.body.toString("utf8"), "Code")
        : undefined) ?? String(answer.status);
    // 404 and 412 are answers the callers act on (absent, condition not met), not failures.
    if (answer.status === 404 && code !== "NoSuchBucket") return answer;
    if (answer.status === 412) return answer;
    const retryable = RETRYABLE_STATUS.has(answer.status) || RETRYABLE_CODES.has(code);
    throw new S3Failure(answer, code, retryable);
  }

  #toError(method: string, what: string, failure: S3Failure) {
    const request = `${method} ${what}`;
    const answer = failure.answer;
    if (!answer) {
      return remoteUnavailableError(
        this.url,
        request,
        `failed (${failure.code}) after ${this.#retries + 1} attempts`,
        {
          cause: failure.cause,
        },
      );
    }
    const message = xmlText(answer.body.toString("utf8"), "Message");
    const detail = `${failure.code}${message ? `: ${message}` : ""}`;
    if (answer.status === 403 || (answer.status === 400 && AUTH_CODES.has(failure.code))) {
      const hint =
        failure.code === "RequestTimeTooSkewed"
          ? "This machine's clock is off by more than 15 minutes: requests are signed with the time. Fix the clock (NTP) and build again."
          : failure.code === "AuthorizationHeaderMalformed"
            ? `Requests are signed for the region "${this.#remote.region}": set AWS_REGION (or remoteCache.region) to the bucket's region${this.#remote.pathStyle ? " (auto for Cloudflare R2)" : ""}.`
            : undefined;
      return remoteAuthError(this.url, request, detail, hint);
    }
    if (failure.code === "NoSuchBucket") {
      return remoteUnavailableError(
        this.url,
        request,
        `failed: the bucket "${this.#remote.bucket}" does not exist`,
        {
          status: 404,
          hint: "Create the bucket (the shared cache creates objects, not buckets), or fix the bucket in remoteCache / GROK_IMAGE_REMOTE_CACHE.",
        },
      );
    }
    if (answer.status === 301 || failure.code === "PermanentRedirect") {
      return remoteUnavailableError(this.url, request, "was redirected: the bucket is in another region", {
        status: answer.status,
        hint: "Set AWS_REGION (or remoteCache.region) to the bucket's region.",
      });
    }
    const attempts = failure.retryable ? ` after ${this.#retries + 1} attempts` : "";
    return remoteUnavailableError(this.url, request, `answered ${answer.status} (${detail})${attempts}`, {
      status: answer.status,
    });
  }

  async get(
    name: string,
    options: { signal?: AbortSignal | undefined } = {},
  ): Promise<StoredObject | undefined> {
    const answer = await this.#send("GET", name, { key: this.#key(name) }, { signal: options.signal });
    if (answer.status === 404) return undefined;
    if (answer.status === 412) return undefined;
    return {
      body: answer.body,
      etag: header(answer, "etag") ?? "",
      lastModified: dateHeader(answer, "last-modified"),
      storeTime: dateHeader(answer, "date"),
    };
  }

  async put(name: string, body: Buffer, options: PutOptions = {}): Promise<PutResult> {
    const headers: Record<string, string> = {
      "content-type": options.contentType ?? "application/octet-stream",
    };
    const condition = options.condition;
    if (condition && "ifNoneMatch" in condition) headers["if-none-match"] = "*";
    if (condition && "ifMatch" in condition) headers["if-match"] = condition.ifMatch;
    const answer = await this.#send(
      "PUT",
      name,
      { key: this.#key(name) },
      { body, headers, signal: options.signal },
    );
    if (answer.status === 412)
      return { ok: false, reason: condition && "ifMatch" in condition ? "changed" : "exists" };
    if (answer.status === 404) return { ok: false, reason: "missing" };
    return { ok: true, etag: header(answer, "etag") ?? "" };
  }

  async delete(name: string, options: { signal?: AbortSignal | undefined } = {}): Promise<void> {
    await this.#send("DELETE", name, { key: this.#key(name) }, { signal: options.signal });
  }

  async *list(
    prefix: string,
    options: { signal?: AbortSignal | undefined } = {},
  ): AsyncIterable<ListedObject> {
    const full = this.#key(prefix);
    const strip = this.#remote.prefix ? this.#remote.prefix.length + 1 : 0;
    let token: string | undefined;
    do {
      const query = new URLSearchParams({ "list-type": "2", prefix: full });
      if (token) query.set("continuation-token", token);
      const answer = await this.#send("GET", `${prefix}* (listing)`, { query }, { signal: options.signal });
      const xml = answer.body.toString("utf8");
      for (const m of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
        const key = xmlText(m[1] as string, "Key");
        if (key === undefined || !key.startsWith(full)) continue;
        yield { name: key.slice(strip), size: Number(xmlText(m[1] as string, "Size") ?? 0) };
      }
      token = xmlText(xml, "IsTruncated") === "true" ? xmlText(xml, "NextContinuationToken") : undefined;
    } while (token);
  }

  async close(): Promise<void> {
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }
}
