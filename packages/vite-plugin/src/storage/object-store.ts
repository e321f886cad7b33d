/*
 * The storage behind the shared cache: a flat namespace of immutable-by-convention objects with create-only and
 * compare-and-swap writes, which is what S3 (and every S3-compatible store) offers through conditional requests.
 * `cache/` never sees it: the shared cache (`shared-cache.ts`) moves objects between a store and the local cache.
 * Two stores implement it: S3 over HTTP (`s3-store.ts`) and a shared directory (`local-store.ts`).
 */

export interface StoredObject {
  readonly body: Buffer;
  /** Opaque version tag (S3's ETag, quotes included): what `ifMatch` compares. */
  readonly etag: string;
  /** When the object was last written, by the store's clock. */
  readonly lastModified: Date | undefined;
  /** The store's clock when it answered, so ages are measured on one clock whatever the machines' clocks say. */
  readonly storeTime: Date | undefined;
}

export interface ListedObject {
  /** Name relative to the store's prefix, e.g. `entries/<key>.json`. */
  readonly name: string;
  readonly size: number;
}

/**
 * `ifNoneMatch: "*"` writes only when no object has the name (S3's `If-None-Match: *`); `ifMatch` only when the
 * object is still the version read (S3's `If-Match: <etag>`).
 */
export type WriteCondition = { readonly ifNoneMatch: "*" } | { readonly ifMatch: string };

/** Why a conditional write did not happen. */
export type WriteRefusal = "exists" | "changed" | "missing";

export type PutResult =
  | { readonly ok: true; readonly etag: string }
  | { readonly ok: false; readonly reason: WriteRefusal };

export interface PutOptions {
  readonly condition?: WriteCondition | undefined;
  readonly contentType?: string | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface ObjectStore {
  /** Where it is, for messages: `s3://bucket/prefix` or `file:///dir`. Never holds a credential. */
  readonly url: string;
  /** The object, or undefined when there is none. */
  get(name: string, options?: { signal?: AbortSignal | undefined }): Promise<StoredObject | undefined>;
  put(name: string, body: Buffer, options?: PutOptions): Promise<PutResult>;
  /** Removes the object; no error when it is already gone. */
  delete(name: string, options?: { signal?: AbortSignal | undefined }): Promise<void>;
  /** Every object whose name starts with `prefix`, in name order. */
  list(prefix: string, options?: { signal?: AbortSignal | undefined }): AsyncIterable<ListedObject>;
  /** Releases connections; the store may not be used afterwards. */
  close(): Promise<void>;
}
