import { randomBytes } from "node:crypto";
import type { ServerResponse } from "node:http";

/** The XML namespace of S3 answers. */
const NS = "http://s3.amazonaws.com/doc/2006-03-01/";

export function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => `&${{ "<": "lt", ">": "gt", "&": "amp", '"': "quot", "'": "apos" }[c]};`,
  );
}

export function requestId(): string {
  return randomBytes(8).toString("hex").toUpperCase();
}

export function sendXml(res: ServerResponse, status: number, xml: string, head = false): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`;
  res.writeHead(status, {
    "content-type": "application/xml",
    "content-length": Buffer.byteLength(body),
  });
  res.end(head ? undefined : body);
}

/** S3's error document; a HEAD answer has the status and no body, as on S3. */
export function sendS3Error(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  extra: { resource?: string; head?: boolean } = {},
): undefined {
  const resource = extra.resource === undefined ? "" : `<Resource>${escapeXml(extra.resource)}</Resource>`;
  const id = String(res.getHeader("x-amz-request-id") ?? requestId());
  sendXml(
    res,
    status,
    `<Error><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message>${resource}<RequestId>${id}</RequestId></Error>`,
    extra.head,
  );
  return undefined;
}

export interface ListedObject {
  key: string;
  size: number;
  etag: string;
  lastModified: Date;
}

export function listBucketResultXml(list: {
  bucket: string;
  prefix: string;
  maxKeys: number;
  objects: ListedObject[];
  truncated: boolean;
  continuationToken: string | undefined;
  nextContinuationToken: string | undefined;
  startAfter: string | undefined;
}): string {
  const contents = list.objects
    .map(
      (o) =>
        `<Contents><Key>${escapeXml(o.key)}</Key><LastModified>${o.lastModified.toISOString()}</LastModified>` +
        `<ETag>${escapeXml(o.etag)}</ETag><Size>${o.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
    )
    .join("");
  return (
    `<ListBucketResult xmlns="${NS}"><Name>${escapeXml(list.bucket)}</Name><Prefix>${escapeXml(list.prefix)}</Prefix>` +
    `<KeyCount>${list.objects.length}</KeyCount><MaxKeys>${list.maxKeys}</MaxKeys>` +
    `<IsTruncated>${list.truncated}</IsTruncated>` +
    (list.continuationToken === undefined
      ? ""
      : `<ContinuationToken>${escapeXml(list.continuationToken)}</ContinuationToken>`) +
    (list.nextContinuationToken === undefined
      ? ""
      : `<NextContinuationToken>${escapeXml(list.nextContinuationToken)}</NextContinuationToken>`) +
    (list.startAfter === undefined ? "" : `<StartAfter>${escapeXml(list.startAfter)}</StartAfter>`) +
    `${contents}</ListBucketResult>`
  );
}
