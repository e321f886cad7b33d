import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { S3Credentials } from "./s3-types.js";

/*
 * AWS Signature Version 4 as S3 checks it on an `Authorization` header, written from AWS's documentation
 * ("Signature Calculations for the Authorization Header") with node:crypto and nothing shared with any client: the
 * emulator is the other side of the wire, so a client's signing mistake must fail here as it fails on S3.
 * Presigned URLs and chunked (STREAMING-*) payloads are not served.
 */

export interface SignedRequest {
  readonly method: string;
  /** The path as sent, still percent-encoded, without the query. */
  readonly rawPath: string;
  /** The query string as sent, without `?`. */
  readonly rawQuery: string;
  readonly headers: IncomingHttpHeaders;
}

export interface VerifyOptions {
  readonly lookup: (accessKeyId: string) => S3Credentials | undefined;
  readonly region: string;
  readonly now: number;
  readonly maxSkewMs: number;
}

export type AuthFailure = { ok: false; status: number; code: string; message: string };
export type AuthResult = { ok: true; accessKeyId: string; payloadHash: string } | AuthFailure;

const ALGORITHM = "AWS4-HMAC-SHA256";

function fail(status: number, code: string, message: string): AuthFailure {
  return { ok: false, status, code, message };
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

/** Checks the request's SigV4 `Authorization` header; the answer S3 would give when it does not hold. */
export function verifySigV4(req: SignedRequest, options: VerifyOptions): AuthResult {
  if (/(?:^|&)X-Amz-(?:Algorithm|Signature)=/i.test(req.rawQuery)) {
    return fail(501, "NotImplemented", "Presigned URLs are not supported by this emulator.");
  }
  const authorization = header(req.headers, "authorization");
  if (!authorization) return fail(403, "AccessDenied", "Access Denied");
  if (!authorization.startsWith(`${ALGORITHM} `)) {
    return fail(400, "InvalidArgument", "Unsupported Authorization Type");
  }
  const fields = new Map<string, string>();
  for (const part of authorization.slice(ALGORITHM.length + 1).split(",")) {
    const at = part.indexOf("=");
    if (at > 0) fields.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
  }
  const credential = fields.get("Credential");
  const signedHeadersText = fields.get("SignedHeaders");
  const signature = fields.get("Signature");
  if (!credential || !signedHeadersText || !signature) {
    return fail(400, "AuthorizationHeaderMalformed", "The authorization header is malformed.");
  }
  const [accessKeyId = "", scopeDate = "", scopeRegion, service, terminal, ...extra] = credential.split("/");
  if (extra.length > 0 || terminal !== "aws4_request" || service !== "s3" || !/^\d{8}$/.test(scopeDate)) {
    return fail(400, "AuthorizationHeaderMalformed", `The credential scope of "${credential}" is malformed.`);
  }
  if (scopeRegion !== options.region) {
    return fail(
      400,
      "AuthorizationHeaderMalformed",
      `The authorization header is malformed; the region '${scopeRegion}' is wrong; expecting '${options.region}'`,
    );
  }
  const secret = options.lookup(accessKeyId);
  if (!secret) {
    return fail(
      403,
      "InvalidAccessKeyId",
      "The AWS Access Key Id you provided does not exist in our records.",
    );
  }

  const amzDate = header(req.headers, "x-amz-date");
  const time = amzDate ? parseAmzDate(amzDate) : undefined;
  if (!amzDate || time === undefined) {
    return fail(403, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header");
  }
  if (Math.abs(options.now - time) > options.maxSkewMs) {
    return fail(
      403,
      "RequestTimeTooSkewed",
      "The difference between the request time and the current time is too large.",
    );
  }
  const payloadHash = header(req.headers, "x-amz-content-sha256");
  if (!payloadHash) {
    return fail(400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256");
  }

  const signedHeaders = signedHeadersText.split(";");
  if (!signedHeaders.includes("host")) {
    return fail(403, "AccessDenied", "The host header must be signed.");
  }
  for (const name of Object.keys(req.headers)) {
    if (name.startsWith("x-amz-") && !signedHeaders.includes(name)) {
      return fail(403, "AccessDenied", "There were headers present in the request which were not signed");
    }
  }
  const token = header(req.headers, "x-amz-security-token");
  if ((secret.sessionToken ?? undefined) !== token) {
    return fail(403, "InvalidToken", "The provided token is malformed or otherwise invalid.");
  }

  const canonicalRequest = [
    req.method,
    canonicalPath(req.rawPath),
    canonicalQuery(req.rawQuery),
    `${signedHeaders.map((name) => `${name}:${canonicalHeaderValue(req.headers[name])}\n`).join("")}`,
    signedHeadersText,
    payloadHash,
  ].join("\n");
  const scope = `${scopeDate}/${scopeRegion}/s3/aws4_request`;
  const stringToSign = [ALGORITHM, amzDate, scope, sha256Hex(canonicalRequest)].join("\n");
  let key: Buffer = hmac(`AWS4${secret.secretAccessKey}`, scopeDate);
  for (const part of [scopeRegion, "s3", "aws4_request"]) key = hmac(key, part);
  const expected = hmac(key, stringToSign).toString("hex");
  const given = Buffer.from(signature.toLowerCase());
  if (given.length !== expected.length || !timingSafeEqual(given, Buffer.from(expected))) {
    return fail(
      403,
      "SignatureDoesNotMatch",
      "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    );
  }
  return { ok: true, accessKeyId, payloadHash };
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac("sha256", key).update(data, "utf8").digest();
}

export function sha256Hex(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** `20250102T030405Z` as epoch milliseconds, or undefined. */
function parseAmzDate(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  return Date.UTC(y as number, (mo as number) - 1, d, h, mi, s);
}

/** RFC 3986 encoding: everything but `A-Z a-z 0-9 - _ . ~` is percent-encoded, in upper-case hex. */
export function uriEncode(text: string, keepSlash: boolean): string {
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c) || (keepSlash && c === "/")) out += c;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** S3 encodes the decoded path once (no double encoding, no dot-segment normalization, as S3 differs from SigV4's default). */
function canonicalPath(rawPath: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    decoded = rawPath;
  }
  return uriEncode(decoded || "/", true);
}

function decodeQueryPart(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll("+", " "));
  } catch {
    return text;
  }
}

function canonicalQuery(rawQuery: string): string {
  if (rawQuery === "") return "";
  return rawQuery
    .split("&")
    .filter((part) => part !== "")
    .map((part) => {
      const at = part.indexOf("=");
      const name = at === -1 ? part : part.slice(0, at);
      const value = at === -1 ? "" : part.slice(at + 1);
      return [uriEncode(decodeQueryPart(name), false), uriEncode(decodeQueryPart(value), false)] as const;
    })
    .sort(([k1, v1], [k2, v2]) => (k1 < k2 ? -1 : k1 > k2 ? 1 : v1 < v2 ? -1 : v1 > v2 ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
}

function canonicalHeaderValue(value: string | string[] | undefined): string {
  const values = Array.isArray(value) ? value : [value ?? ""];
  return values.map((v) => v.trim().replace(/\s+/g, " ")).join(",");
}
