import sharp from "sharp";
import { type Dispatcher, request } from "undici";
import { GrokImageError } from "../errors.js";
import { abortedError, describeUrl, forLabel } from "./api-errors.js";
import {
  AttemptFailure,
  isNetworkError,
  isRetryableStatus,
  parseRetryAfter,
  type RetryInfo,
  withRetry,
} from "./retry-policy.js";

/** Internal: built once by the client. `dispatcher` follows a few redirects and never carries credentials. */
export interface DownloadContext {
  readonly dispatcher: Dispatcher;
  readonly userAgent: string;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  readonly retries: number;
  readonly minRetryDelayMs: number;
  readonly maxRetryDelayMs: number;
  readonly onRetry: ((info: RetryInfo) => void) | undefined;
}

export interface DownloadOptions {
  signal?: AbortSignal | undefined;
  /** Largest body accepted, enforced while streaming. */
  maxBytes: number;
  /** How messages name the image, e.g. the directive. */
  label?: string | undefined;
  /** The task the URL came from, carried by every error. */
  taskId?: string | undefined;
}

/** Formats an original may have. SVG is refused: it is not what the API generates and it can carry scripts. */
const IMAGE_FORMATS = new Set(["jpeg", "png", "webp", "avif", "heif", "gif", "tiff"]);

/**
 * Downloads one result URL with a plain GET: no Authorization header and no other credential, whatever the host.
 * The body must fit `maxBytes` and decode completely as a raster image. Network errors, 408/429/5xx and bodies cut
 * short are retried; 403/404/410 mean the URL expired and are not.
 */
export async function downloadImage(
  ctx: DownloadContext,
  url: string,
  options: DownloadOptions,
): Promise<Buffer> {
  const { signal, taskId, label } = options;
  const where = `GET ${describeUrl(url)}${forLabel(label)}${taskId ? ` (task ${taskId})` : ""}`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    parsed = new URL("invalid:");
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new GrokImageError(
      "GROK_DOWNLOAD_REJECTED",
      `The result URL${forLabel(label)} is not an http(s) URL.`,
      {
        taskId,
        hint: "MaxAPI returned an unexpected result URL; look the task up on the MaxAPI dashboard.",
      },
    );
  }
  let bytes: Buffer;
  try {
    bytes = await withRetry(() => attempt(ctx, parsed, where, options), {
      phase: "download",
      retries: ctx.retries,
      minDelayMs: ctx.minRetryDelayMs,
      maxDelayMs: ctx.maxRetryDelayMs,
      signal,
      onRetry: ctx.onRetry,
    });
  } catch (error) {
    if (signal?.aborted) throw abortedError(signal.reason, where, { taskId });
    throw error;
  }
  await verifyImage(bytes, where, taskId);
  return bytes;
}

async function attempt(
  ctx: DownloadContext,
  url: URL,
  where: string,
  options: DownloadOptions,
): Promise<Buffer> {
  const { taskId, maxBytes } = options;
  let response: Dispatcher.ResponseData;
  try {
    response = await request(url, {
      dispatcher: ctx.dispatcher,
      method: "GET",
      headers: { "user-agent": ctx.userAgent, accept: "image/*" },
      signal: options.signal ?? null,
      headersTimeout: ctx.headersTimeoutMs,
      bodyTimeout: ctx.bodyTimeoutMs,
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    const network = isNetworkError(error);
    // Anything else is a refusal by the transport itself, e.g. a redirect loop past the hop limit.
    const detail = network
      ? codeOf(error)
      : `${codeOf(error)}: ${(error as Error)?.message ?? String(error)}`;
    const error_ = new GrokImageError(
      network ? "GROK_HTTP_ERROR" : "GROK_DOWNLOAD_REJECTED",
      `${where} failed: ${detail}.`,
      {
        taskId,
        cause: error,
        hint: network
          ? "Check the network connection; the result URL stays valid for 7 days."
          : "The download host misbehaves (redirect loop or invalid answer); look the task up on the MaxAPI dashboard.",
      },
    );
    throw new AttemptFailure(error_, network);
  }

  const { statusCode, headers, body } = response;
  if (statusCode < 200 || statusCode >= 300) {
    await body.dump().catch(() => {});
    if (statusCode === 403 || statusCode === 404 || statusCode === 410) {
      const error = new GrokImageError(
        "GROK_DOWNLOAD_REJECTED",
        `${where} answered ${statusCode}: the result URL has expired or was removed.`,
        {
          taskId,
          status: statusCode,
          hint: "Result URLs live 7 days after generation. The image must be generated again (a new, charged task).",
        },
      );
      throw new AttemptFailure(error, false);
    }
    const retryable = isRetryableStatus(statusCode);
    const error = new GrokImageError("GROK_HTTP_ERROR", `${where} answered ${statusCode}.`, {
      taskId,
      status: statusCode,
      hint: retryable
        ? "The download host is failing; try again later (the URL stays valid for 7 days)."
        : "Look the task up on the MaxAPI dashboard.",
    });
    throw new AttemptFailure(
      error,
      retryable,
      retryable ? parseRetryAfter(headers["retry-after"]) : undefined,
    );
  }

  const declared = Number(headers["content-length"] ?? Number.NaN);
  const tooLarge = (size: number) =>
    new AttemptFailure(
      new GrokImageError(
        "GROK_DOWNLOAD_REJECTED",
        `${where} is larger than the ${maxBytes}-byte limit (${size} bytes or more).`,
        {
          taskId,
          hint: "MaxAPI returned a result far larger than any image it should produce; re-run the build to retry the download (the task is not paid again), and report the task id to MaxAPI if it persists.",
        },
      ),
      false,
    );
  if (declared > maxBytes) {
    body.destroy();
    throw tooLarge(declared);
  }

  const chunks: Buffer[] = [];
  let received = 0;
  try {
    for await (const chunk of body) {
      received += (chunk as Buffer).length;
      if (received > maxBytes) {
        body.destroy();
        throw tooLarge(received);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    if (error instanceof AttemptFailure || options.signal?.aborted) throw error;
    throw cutShort(where, received, declared, taskId, error, isNetworkError(error));
  }
  if (Number.isFinite(declared) && received < declared)
    throw cutShort(where, received, declared, taskId, undefined, true);
  return Buffer.concat(chunks, received);
}

function cutShort(
  where: string,
  received: number,
  declared: number,
  taskId: string | undefined,
  cause: unknown,
  retryable: boolean,
) {
  const of = Number.isFinite(declared) ? ` of ${declared}` : "";
  const error = new GrokImageError(
    "GROK_DOWNLOAD_REJECTED",
    `${where} was cut off after ${received}${of} bytes (${codeOf(cause)}).`,
    {
      taskId,
      cause,
      hint: "The download host dropped the connection; run the build again (the URL stays valid for 7 days).",
    },
  );
  return new AttemptFailure(error, retryable);
}

const codeOf = (error: unknown): string =>
  (error as { code?: unknown } | null)?.code?.toString() ??
  (error instanceof Error ? error.message : "connection closed early");

/** Decodes every pixel: a header that parses is not enough, a truncated JPEG has a perfectly good header. */
async function verifyImage(bytes: Buffer, where: string, taskId: string | undefined): Promise<void> {
  let format: string | undefined;
  try {
    const image = sharp(bytes, { failOn: "error" });
    format = (await image.metadata()).format;
    if (format && IMAGE_FORMATS.has(format)) {
      await image.stats();
      return;
    }
  } catch (error) {
    throw new GrokImageError(
      "GROK_DOWNLOAD_REJECTED",
      `${where} is not a complete, decodable image (${bytes.length} bytes): ${(error as Error).message.trim()}.`,
      {
        taskId,
        cause: error,
        hint: "The download host returned damaged data. Run the build again; if it persists the task must be generated again.",
      },
    );
  }
  throw new GrokImageError(
    "GROK_DOWNLOAD_REJECTED",
    `${where} is not a raster image (detected: ${format ?? "unknown"}).`,
    {
      taskId,
      hint: "The download host returned something other than the generated image (an error page?). Run the build again.",
    },
  );
}
