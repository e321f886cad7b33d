import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { S3FaultRegistry } from "./s3-faults.js";
import { createS3Handler, type S3State } from "./s3-handler.js";
import type { S3Counters, S3Emulator, S3EmulatorOptions, S3StoredObject } from "./s3-types.js";
import { sendS3Error } from "./s3-xml.js";

/** The access key pair the S3 emulator accepts when given none (for `AWS_ACCESS_KEY_ID`). */
export const S3_EMULATOR_ACCESS_KEY_ID = "emulator-access-key";
/** ...and its secret (for `AWS_SECRET_ACCESS_KEY`). Not a secret: the emulator only runs on your machine. */
export const S3_EMULATOR_SECRET_ACCESS_KEY = "emulator-secret-key";

function createS3Counters(): S3Counters {
  return {
    requests: 0,
    byOperation: {},
    preconditionFailed: 0,
    conflicts: 0,
    authFailures: 0,
    bytesIn: 0,
    bytesOut: 0,
  };
}

/**
 * Starts an S3-compatible server (path-style, SigV4 header auth, conditional writes) on `host:port` (a free port by
 * default), holding its buckets in memory.
 */
export async function startS3Emulator(options: S3EmulatorOptions = {}): Promise<S3Emulator> {
  const host = options.host ?? "127.0.0.1";
  const region = options.region ?? "us-east-1";
  const bucketNames = options.buckets ?? ["grok-image-cache"];
  const faults = new S3FaultRegistry();
  const installFaults = () => {
    faults.clear();
    for (const rule of options.faults ?? []) faults.add(rule);
  };
  installFaults();
  const state: S3State = {
    buckets: new Map(bucketNames.map((name) => [name, new Map<string, S3StoredObject>()])),
    counters: createS3Counters(),
    faults,
    credentials: options.credentials ?? [
      { accessKeyId: S3_EMULATOR_ACCESS_KEY_ID, secretAccessKey: S3_EMULATOR_SECRET_ACCESS_KEY },
    ],
    region,
    maxObjectBytes: options.maxObjectBytes ?? 64 * 1024 * 1024,
    maxSkewMs: options.maxSkewMs ?? 15 * 60 * 1000,
    now: options.now ?? Date.now,
    timers: new Set(),
    writing: new Map(),
    ignoreConditionalWrites: options.ignoreConditionalWrites ?? false,
  };
  const handler = createS3Handler(state);
  const server: Server = createServer((req, res) => {
    handler(req, res).catch(() => {
      // A handler bug must not take the emulator down; the client sees a 500 like from any broken server.
      if (!res.headersSent)
        sendS3Error(res, 500, "InternalError", "We encountered an internal error. Please try again.");
      else req.socket.destroy();
    });
  });
  let port = options.port ?? 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  const stopListening = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      server.closeAllConnections();
    });
  await listen();
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  const bucketOf = (bucket: string) => {
    const objects = state.buckets.get(bucket);
    if (!objects) throw new TypeError(`The S3 emulator has no bucket "${bucket}".`);
    return objects;
  };

  let closed: Promise<void> | undefined;
  return {
    url,
    region,
    counters: state.counters,
    inject: (rule) => faults.add(rule),
    clearFaults: () => faults.clear(),
    async setDown(down) {
      if (down) await stopListening();
      else if (!server.listening) await listen();
    },
    getObject: (bucket, key) => bucketOf(bucket).get(key),
    putObject(bucket, key, body, contentType = "binary/octet-stream") {
      const bytes = typeof body === "string" ? Buffer.from(body) : body;
      // The ETag is left as it was for an existing object, as damage on disk would leave it: only the bytes change.
      const etag =
        bucketOf(bucket).get(key)?.etag ??
        `"${Buffer.from(key).toString("hex").slice(0, 32).padEnd(32, "0")}"`;
      bucketOf(bucket).set(key, {
        body: bytes,
        etag,
        lastModified: new Date(Math.floor(state.now() / 1000) * 1000),
        contentType,
      });
    },
    deleteObject: (bucket, key) => {
      bucketOf(bucket).delete(key);
    },
    listKeys: (bucket, prefix = "") =>
      [...bucketOf(bucket).keys()].filter((key) => key.startsWith(prefix)).sort(),
    reset() {
      for (const objects of state.buckets.values()) objects.clear();
      Object.assign(state.counters, createS3Counters());
      installFaults();
    },
    close() {
      closed ??= (async () => {
        for (const timer of state.timers) clearTimeout(timer);
        state.timers.clear();
        await stopListening();
      })();
      return closed;
    },
  };
}
