import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { sleep } from "../http-util.js";
import type { S3FaultRegistry } from "./s3-faults.js";
import type { S3Counters, S3Credentials, S3Operation, S3StoredObject } from "./s3-types.js";
import { listBucketResultXml, requestId, sendS3Error, sendXml } from "./s3-xml.js";
import { sha256Hex, verifySigV4 } from "./verify-sigv4.js";

/** What the handler works on; owned by `startS3Emulator`. */
export interface S3State {
  readonly buckets: Map<string, Map<string, S3StoredObject>>;
  readonly counters: S3Counters;
  readonly faults: S3FaultRegistry;
  readonly credentials: readonly S3Credentials[];
  readonly region: string;
  readonly maxObjectBytes: number;
  readonly maxSkewMs: number;
  readonly now: () => number;
  readonly timers: Set<NodeJS.Timeout>;
  /** Writes of a key whose body is still arriving: a conditional write that meets one answers 409, as S3 does. */
  readonly writing: Map<string, number>;
  readonly ignoreConditionalWrites: boolean;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

interface Route {
  op: S3Operation;
  bucket: string;
  key: string | undefined;
}

function route(method: string, path: string, query: URLSearchParams): Route | string {
  const slash = path.indexOf("/", 1);
  const bucket = decodeURIComponent(slash === -1 ? path.slice(1) : path.slice(1, slash));
  const key = slash === -1 ? undefined : decodeURIComponent(path.slice(slash + 1));
  if (!bucket) return "listing buckets";
  if (key === undefined || key === "") {
    if (method === "PUT" && query.size === 0) return { op: "CreateBucket", bucket, key: undefined };
    if (method === "HEAD") return { op: "HeadBucket", bucket, key: undefined };
    if (method === "GET" && query.get("list-type") === "2")
      return { op: "ListObjectsV2", bucket, key: undefined };
    return `${method} on a bucket${query.size > 0 ? ` with ?${[...query.keys()].join("&")}` : ""}`;
  }
  // Sub-resources (?acl, ?tagging, ?uploads...) are other operations, not served.
  if (query.size > 0) return `${method} with ?${[...query.keys()].join("&")}`;
  const op = ({ PUT: "PutObject", GET: "GetObject", HEAD: "HeadObject", DELETE: "DeleteObject" } as const)[
    method as "PUT" | "GET" | "HEAD" | "DELETE"
  ];
  return op ? { op, bucket, key } : `${method} on an object`;
}

/** The S3 request handler: routing, faults, SigV4, then the operation. */
export function createS3Handler(state: S3State) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    state.counters.requests += 1;
    res.setHeader("x-amz-request-id", requestId());
    res.setHeader("date", new Date(state.now()).toUTCString());
    res.setHeader("server", "maxapi-emulator-s3");
    const method = req.method ?? "GET";
    const head = method === "HEAD";
    const rawUrl = req.url ?? "/";
    const q = rawUrl.indexOf("?");
    const rawPath = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const rawQuery = q === -1 ? "" : rawUrl.slice(q + 1);
    let found: Route | string;
    try {
      found = route(method, rawPath, new URLSearchParams(rawQuery));
    } catch {
      return sendS3Error(res, 400, "InvalidURI", "Couldn't parse the specified URI.", { head });
    }
    if (typeof found === "string") {
      return sendS3Error(res, 501, "NotImplemented", `This emulator does not implement ${found}.`, { head });
    }
    const { op, bucket, key } = found;
    state.counters.byOperation[op] = (state.counters.byOperation[op] ?? 0) + 1;

    const fault = state.faults.take(op, key);
    if (fault?.type === "delay") await sleep(fault.ms, state.timers);
    if (fault?.type === "drop") {
      req.socket.destroy();
      return;
    }
    if (fault?.type === "error") {
      if (fault.status === 403) state.counters.authFailures += 1;
      return sendS3Error(res, fault.status, fault.code, fault.message ?? fault.code, { head });
    }

    const auth = verifySigV4(
      { method, rawPath, rawQuery, headers: req.headers },
      {
        lookup: (id) => state.credentials.find((c) => c.accessKeyId === id),
        region: state.region,
        now: state.now(),
        maxSkewMs: state.maxSkewMs,
      },
    );
    if (!auth.ok) {
      if (auth.status === 403) state.counters.authFailures += 1;
      req.resume();
      return sendS3Error(res, auth.status, auth.code, auth.message, { head });
    }
    if (!/^[0-9a-f]{64}$/.test(auth.payloadHash) && auth.payloadHash !== "UNSIGNED-PAYLOAD") {
      req.resume();
      return sendS3Error(res, 501, "NotImplemented", "Chunked (STREAMING-*) payloads are not implemented.", {
        head,
      });
    }

    if (op === "CreateBucket") {
      await drain(req);
      if (!BUCKET_NAME.test(bucket))
        return sendS3Error(res, 400, "InvalidBucketName", "The specified bucket is not valid.");
      if (state.buckets.has(bucket)) {
        return sendS3Error(
          res,
          409,
          "BucketAlreadyOwnedByYou",
          "Your previous request to create the named bucket succeeded and you already own it.",
        );
      }
      state.buckets.set(bucket, new Map());
      res.writeHead(200, { location: `/${bucket}`, "content-length": 0 });
      res.end();
      return;
    }
    const objects = state.buckets.get(bucket);
    if (!objects) {
      req.resume();
      return sendS3Error(res, 404, "NoSuchBucket", "The specified bucket does not exist", {
        resource: `/${bucket}`,
        head,
      });
    }
    if (op === "HeadBucket") {
      res.writeHead(200, { "content-length": 0 });
      res.end();
      return;
    }
    if (op === "ListObjectsV2") return listObjects(res, bucket, objects, new URLSearchParams(rawQuery));
    const objectKey = key as string;
    const resource = `/${bucket}/${objectKey}`;
    if (op === "PutObject")
      return putObject(state, req, res, objects, `${bucket}/${objectKey}`, objectKey, auth.payloadHash);
    if (op === "DeleteObject") {
      if (refusedIfMatch(state, res, req.headers["if-match"], objects.get(objectKey), resource)) return;
      objects.delete(objectKey);
      res.writeHead(204);
      res.end();
      return;
    }
    // GetObject, HeadObject
    const current = objects.get(objectKey);
    if (!current)
      return sendS3Error(res, 404, "NoSuchKey", "The specified key does not exist.", { resource, head });
    const ifMatch = req.headers["if-match"];
    if (ifMatch !== undefined && !etagMatches(ifMatch, current.etag))
      return preconditionFailed(state, res, { resource, head });
    const ifNoneMatch = req.headers["if-none-match"];
    const headers = {
      etag: current.etag,
      "last-modified": current.lastModified.toUTCString(),
      "content-type": current.contentType,
      "content-length": current.body.length,
      "accept-ranges": "bytes",
    };
    if (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, current.etag)) {
      res.writeHead(304, { etag: current.etag, "last-modified": headers["last-modified"] });
      res.end();
      return;
    }
    res.writeHead(200, headers);
    if (head) {
      res.end();
      return;
    }
    state.counters.bytesOut += current.body.length;
    res.end(current.body);
  };
}

function etagMatches(condition: string, etag: string): boolean {
  return condition
    .split(",")
    .map((c) => c.trim())
    .some((c) => c === "*" || c === etag || `"${c}"` === etag);
}

async function drain(req: IncomingMessage): Promise<void> {
  for await (const _ of req) {
    // Discarded.
  }
}

async function putObject(
  state: S3State,
  req: IncomingMessage,
  res: ServerResponse,
  objects: Map<string, S3StoredObject>,
  id: string,
  key: string,
  payloadHash: string,
): Promise<void> {
  const resource = `/${id}`;
  const ifNoneMatch = state.ignoreConditionalWrites ? undefined : req.headers["if-none-match"];
  const ifMatch = state.ignoreConditionalWrites ? undefined : req.headers["if-match"];
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== "*") {
    req.resume();
    return sendS3Error(
      res,
      501,
      "NotImplemented",
      "A header you provided implies functionality that is not implemented",
      { resource },
    );
  }
  const declared = Number(req.headers["content-length"]);
  if (req.headers["content-length"] === undefined) {
    req.resume();
    return sendS3Error(res, 411, "MissingContentLength", "You must provide the Content-Length HTTP header.");
  }
  if (declared > state.maxObjectBytes) {
    req.resume();
    return sendS3Error(
      res,
      400,
      "EntityTooLarge",
      "Your proposed upload exceeds the maximum allowed object size.",
    );
  }
  state.writing.set(id, (state.writing.get(id) ?? 0) + 1);
  let body: Buffer;
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    body = Buffer.concat(chunks);
  } finally {
    const left = (state.writing.get(id) ?? 1) - 1;
    if (left === 0) state.writing.delete(id);
    else state.writing.set(id, left);
  }
  state.counters.bytesIn += body.length;
  if (body.length !== declared) {
    return sendS3Error(
      res,
      400,
      "IncompleteBody",
      "You did not provide the number of bytes specified by the Content-Length HTTP header.",
    );
  }
  if (payloadHash !== "UNSIGNED-PAYLOAD" && sha256Hex(body) !== payloadHash) {
    return sendS3Error(
      res,
      400,
      "XAmzContentSHA256Mismatch",
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
  }
  const md5 = req.headers["content-md5"];
  if (md5 !== undefined && createHash("md5").update(body).digest("base64") !== md5) {
    return sendS3Error(
      res,
      400,
      "BadDigest",
      "The Content-MD5 you specified did not match what we received.",
    );
  }
  const conditional = ifNoneMatch !== undefined || ifMatch !== undefined;
  // Another write of this key is still arriving: S3 cannot order the two, and says so with a 409 the client retries.
  if (conditional && state.writing.has(id)) {
    state.counters.conflicts += 1;
    return sendS3Error(
      res,
      409,
      "ConditionalRequestConflict",
      "A conflicting conditional operation is currently in progress against this resource. Please try again.",
      { resource },
    );
  }
  const current = objects.get(key);
  if (ifNoneMatch !== undefined && current) return preconditionFailed(state, res, { resource });
  if (refusedIfMatch(state, res, ifMatch, current, resource)) return;
  const stored: S3StoredObject = {
    body,
    etag: `"${createHash("md5").update(body).digest("hex")}"`,
    lastModified: new Date(Math.floor(state.now() / 1000) * 1000),
    contentType: req.headers["content-type"] ?? "binary/octet-stream",
  };
  objects.set(key, stored);
  res.writeHead(200, { etag: stored.etag, "content-length": 0 });
  res.end();
}

/** S3's answer to a condition that does not hold (`If-Match`, `If-None-Match`), counted. */
function preconditionFailed(
  state: S3State,
  res: ServerResponse,
  extra: { resource: string; head?: boolean },
): undefined {
  state.counters.preconditionFailed += 1;
  return sendS3Error(
    res,
    412,
    "PreconditionFailed",
    "At least one of the pre-conditions you specified did not hold",
    extra,
  );
}

/**
 * Whether a write or delete was refused for its `If-Match` (and answered): 404 when there is no object to match,
 * 412 when its ETag differs. A request without the header (or one whose conditions are ignored) goes on.
 */
function refusedIfMatch(
  state: S3State,
  res: ServerResponse,
  ifMatch: string | undefined,
  current: S3StoredObject | undefined,
  resource: string,
): boolean {
  if (ifMatch === undefined) return false;
  if (!current) sendS3Error(res, 404, "NoSuchKey", "The specified key does not exist.", { resource });
  else if (!etagMatches(ifMatch, current.etag)) preconditionFailed(state, res, { resource });
  else return false;
  return true;
}

function listObjects(
  res: ServerResponse,
  bucket: string,
  objects: Map<string, S3StoredObject>,
  query: URLSearchParams,
): undefined {
  const prefix = query.get("prefix") ?? "";
  const maxKeysText = query.get("max-keys");
  const maxKeys = maxKeysText === null ? 1000 : Math.min(1000, Number(maxKeysText));
  if (!Number.isInteger(maxKeys) || maxKeys < 0) {
    return sendS3Error(
      res,
      400,
      "InvalidArgument",
      "Provided max-keys not an integer or within integer range",
    );
  }
  if (query.has("delimiter")) {
    return sendS3Error(res, 501, "NotImplemented", "This emulator does not implement delimiter listings.");
  }
  const token = query.get("continuation-token") ?? undefined;
  let after = query.get("start-after") ?? "";
  if (token !== undefined) {
    const decoded = Buffer.from(token, "base64url").toString("utf8");
    if (!decoded.startsWith("k:")) {
      return sendS3Error(res, 400, "InvalidArgument", "The continuation token provided is incorrect");
    }
    after = decoded.slice(2);
  }
  const keys = [...objects.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
  const page = keys.slice(0, maxKeys);
  const truncated = keys.length > page.length;
  const last = page.at(-1);
  sendXml(
    res,
    200,
    listBucketResultXml({
      bucket,
      prefix,
      maxKeys,
      objects: page.map((k) => {
        const o = objects.get(k) as S3StoredObject;
        return { key: k, size: o.body.length, etag: o.etag, lastModified: o.lastModified };
      }),
      truncated,
      continuationToken: token,
      nextContinuationToken:
        truncated && last !== undefined ? Buffer.from(`k:${last}`).toString("base64url") : undefined,
      startAfter: query.get("start-after") ?? undefined,
    }),
  );
}
