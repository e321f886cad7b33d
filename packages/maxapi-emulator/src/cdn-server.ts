import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { EmulatorContext } from "./emulator-context.js";
import { applyTransportFault } from "./http-util.js";
import { imageSize, scaleSize } from "./image-size.js";
import { renderImage } from "./render-image.js";
import type { Task } from "./task-store.js";
import type { OversizedFault, TruncatedFault } from "./types.js";

const IMAGE_PATH = /^\/images\/([^/]+)\/image-(\d+)\.jpg$/;
const CACHE_LIMIT = 64;
const PADDING = Buffer.alloc(64 * 1024);

/**
 * The "CDN": a separate origin serving result images without any auth, as the docs' plain public URLs imply
 * (MAXAPI.md §9). It counts Authorization headers so tests can prove the API key never reaches it.
 */
export function createCdnHandler(ctx: EmulatorContext) {
  // Rendered images by task and index; small and bounded, since the bytes can always be rendered again.
  const cache = new Map<string, Promise<Buffer>>();
  const render = (task: Task, index: number): Promise<Buffer> => {
    const key = `${task.id}/${index}`;
    let image = cache.get(key);
    if (!image) {
      const size = scaleSize(
        imageSize(task.model, task.prompt, task.ratio, task.resolution),
        task.imageScale,
      );
      image = renderImage({ ...task, index, size });
      image.catch(() => cache.delete(key));
      cache.set(key, image);
      if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    }
    return image;
  };

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.headers.authorization !== undefined) ctx.counters.cdnAuthorizationHeaders += 1;
    const match = IMAGE_PATH.exec(new URL(req.url ?? "/", "http://cdn").pathname);
    if (!match?.[1] || !match[2]) return sendText(res, 404, "Not Found\n");
    if (req.method !== "GET" && req.method !== "HEAD") return sendText(res, 405, "Method Not Allowed\n");
    ctx.counters.downloads += 1;
    const task = ctx.tasks.get(match[1]);
    const index = Number(match[2]);
    const fault = ctx.faults.take("download", task?.prompt);
    if (await applyTransportFault(fault, req, res, ctx.timers)) return;
    if (task?.status !== "SUCCESS" || task.generatedAt === undefined || index >= task.n) {
      return sendText(res, 404, "Not Found\n");
    }
    if (fault?.type === "expired" || ctx.now() > task.generatedAt + ctx.options.urlTtlMs) {
      return sendText(res, ctx.options.expiredStatus, "This URL has expired.\n");
    }
    if (fault?.type === "corrupt") return sendImage(res, corruptBytes(task, index));
    const image = await render(task, index);
    if (fault?.type === "truncated") return sendTruncated(req, res, image, fault);
    if (fault?.type === "oversized") return sendOversized(res, image, fault);
    sendImage(res, image);
  };
  return { handler, clearCache: () => cache.clear() };
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

function sendImage(res: ServerResponse, bytes: Buffer): void {
  res.writeHead(200, {
    "content-type": "image/jpeg",
    "content-length": bytes.length,
    etag: `"${createHash("sha1").update(bytes).digest("hex")}"`,
    "cache-control": "public, max-age=604800, immutable",
  });
  res.end(bytes);
}

function sendTruncated(
  req: IncomingMessage,
  res: ServerResponse,
  image: Buffer,
  fault: TruncatedFault,
): void {
  const sent = Math.floor(image.length * Math.min(Math.max(fault.fraction ?? 0.5, 0), 0.99));
  res.writeHead(200, { "content-type": "image/jpeg", "content-length": image.length });
  res.write(image.subarray(0, sent), () => req.socket.destroy());
}

/** A valid JPEG followed by padding up to `bytes`, streamed with backpressure so memory stays flat. */
function sendOversized(res: ServerResponse, image: Buffer, fault: OversizedFault): void {
  const total = Math.max(fault.bytes ?? 64 * 1024 * 1024, image.length);
  const headers: Record<string, string | number> = { "content-type": "image/jpeg" };
  if (fault.declareLength !== false) headers["content-length"] = total;
  res.writeHead(200, headers);
  let left = total - image.length;
  const pump = () => {
    while (left > 0 && !res.destroyed) {
      const chunk = PADDING.subarray(0, Math.min(left, PADDING.length));
      left -= chunk.length;
      if (!res.write(chunk)) return void res.once("drain", pump);
    }
    if (!res.destroyed) res.end();
  };
  if (res.write(image)) pump();
  else res.once("drain", pump);
}

/** Deterministic bytes that no decoder accepts as an image (no JPEG SOI marker). */
function corruptBytes(task: Task, index: number): Buffer {
  const seed = createHash("sha256").update(`corrupt\u0000${task.prompt}\u0000${index}`).digest();
  const bytes = Buffer.alloc(4096);
  for (let i = 0; i < bytes.length; i += seed.length) seed.copy(bytes, i);
  bytes.write("NOT A JPEG", 0, "latin1");
  return bytes;
}
