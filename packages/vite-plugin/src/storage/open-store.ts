import type { ResolvedRemoteCache } from "../types.js";
import { LocalStore } from "./local-store.js";
import type { ObjectStore } from "./object-store.js";
import type { S3StoreOptions } from "./s3-store.js";

/** The store of a resolved `remoteCache`. The S3 client is imported only for an `s3://` cache. */
export async function openStore(remote: ResolvedRemoteCache, options?: S3StoreOptions): Promise<ObjectStore> {
  if (remote.kind === "file") return new LocalStore(remote.bucket, remote.url);
  const { S3Store } = await import("./s3-store.js");
  return new S3Store(remote, options);
}
