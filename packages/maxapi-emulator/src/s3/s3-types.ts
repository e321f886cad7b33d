/** The S3 operations the emulator serves (path-style requests only: `/<bucket>/<key>`). */
export type S3Operation =
  | "PutObject"
  | "GetObject"
  | "HeadObject"
  | "DeleteObject"
  | "ListObjectsV2"
  | "CreateBucket"
  | "HeadBucket";

/** One access key the emulator accepts. */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** When set, requests signed with this key must carry it as `x-amz-security-token`, as temporary AWS keys do. */
  sessionToken?: string;
}

/** An S3 error answer: the status and the `<Code>` of S3's error XML, e.g. 503 `SlowDown`, 403 `AccessDenied`. */
export interface S3ErrorFault {
  type: "error";
  status: number;
  code: string;
  message?: string;
}

/** The connection is destroyed without an answer. */
export interface S3DropFault {
  type: "drop";
}

/** The answer is held back this long, then given normally. */
export interface S3DelayFault {
  type: "delay";
  ms: number;
}

export type S3Fault = S3ErrorFault | S3DropFault | S3DelayFault;

export interface S3FaultRule {
  /** Which operations it applies to. @default every operation */
  op?: S3Operation | S3Operation[];
  /** A substring of, or a RegExp matched against, the object key. Rules with a key never match bucket operations. */
  key?: string | RegExp;
  /** How many requests it answers. @default unlimited */
  times?: number;
  fault: S3Fault;
}

export interface S3EmulatorOptions {
  /** @default 0 (a free port) */
  port?: number;
  /** @default "127.0.0.1" */
  host?: string;
  /** Access keys accepted. @default one pair: S3_EMULATOR_ACCESS_KEY_ID / S3_EMULATOR_SECRET_ACCESS_KEY */
  credentials?: S3Credentials[];
  /** The region requests must be signed for. @default "us-east-1" */
  region?: string;
  /** Buckets that exist from the start (more can be created with `PUT /<bucket>`). @default ["grok-image-cache"] */
  buckets?: string[];
  /** Fault rules installed at start and by `reset()`. */
  faults?: S3FaultRule[];
  /** Largest accepted object. @default 64 MiB */
  maxObjectBytes?: number;
  /** Largest clock difference between a request's `x-amz-date` and the server. @default 15 minutes */
  maxSkewMs?: number;
  /**
   * Ignore `If-None-Match` and `If-Match` on writes, as some S3-compatible servers do (s3rver), to test what a client
   * does on such a store. @default false
   */
  ignoreConditionalWrites?: boolean;
  /** Clock for `Last-Modified`, `Date` and the skew check. @default Date.now */
  now?: () => number;
}

export interface S3Counters {
  /** Every request that reached the emulator, including refused ones. */
  requests: number;
  byOperation: Partial<Record<S3Operation, number>>;
  /** Conditional writes refused with 412 (`If-None-Match: *` on an existing key, `If-Match` on a changed one). */
  preconditionFailed: number;
  /** Conditional writes refused with 409 while another write of the same key was still arriving. */
  conflicts: number;
  /** Requests refused for their signature or key (403). */
  authFailures: number;
  /** Bytes of object bodies received and sent. */
  bytesIn: number;
  bytesOut: number;
}

/** What the emulator stores for one object. */
export interface S3StoredObject {
  body: Buffer;
  /** Quoted, as S3 sends it: `"<md5 hex>"`. */
  etag: string;
  lastModified: Date;
  contentType: string;
}

export interface S3Emulator {
  /** The endpoint: `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_S3`. */
  readonly url: string;
  readonly region: string;
  readonly counters: S3Counters;
  /** Adds a fault rule; returns a function that removes it. */
  inject(rule: S3FaultRule): () => void;
  clearFaults(): void;
  /**
   * Stops answering (`true`): the port is closed, so clients get "connection refused", and open connections are
   * cut. `false` listens on the same port again.
   */
  setDown(down: boolean): Promise<void>;
  /** An object as stored, bypassing auth and counters; undefined when absent. */
  getObject(bucket: string, key: string): S3StoredObject | undefined;
  /** Writes an object directly (e.g. to damage one on purpose), bypassing auth, conditions and counters. */
  putObject(bucket: string, key: string, body: Buffer | string, contentType?: string): void;
  deleteObject(bucket: string, key: string): void;
  /** Keys of a bucket that start with `prefix`, sorted. */
  listKeys(bucket: string, prefix?: string): string[];
  /** Empties every bucket (buckets stay), zeroes counters, restores the option faults. */
  reset(): void;
  close(): Promise<void>;
}
