import type { IncomingMessage, ServerResponse } from "node:http";
import { STATUS_CODES } from "node:http";
import type { Fault, HttpFault } from "./types.js";

const MAX_BODY_BYTES = 1024 * 1024;

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** The documented error envelope: `{code, msg}` with the HTTP status equal to `code` (MAXAPI.md §1). */
export function sendError(
  res: ServerResponse,
  status: number,
  msg: string,
  headers?: Record<string, string>,
): void {
  sendJson(res, status, { code: status, msg }, headers);
}

function sendHttpFault(res: ServerResponse, fault: HttpFault): void {
  const headers: Record<string, string> = {};
  if (fault.retryAfter !== undefined) headers["retry-after"] = String(fault.retryAfter);
  sendError(res, fault.status, fault.msg ?? (STATUS_CODES[fault.status] ?? "error").toLowerCase(), headers);
}

/** Ends the exchange with no response at all, as a crashed proxy or a reset would. */
export function dropConnection(req: IncomingMessage): void {
  req.socket.destroy();
}

type ParsedBody = { ok: true; value: unknown } | { ok: false; msg: string };

export async function readJson(req: IncomingMessage): Promise<ParsedBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return { ok: false, msg: "request body too large" };
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return { ok: false, msg: "request body must be a JSON object" };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, msg: "invalid JSON body" };
  }
}

/** A delay fault's wait, kept in `timers` so that closing the server cancels it. */
export function sleep(ms: number, timers: Set<NodeJS.Timeout>): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      resolve();
    }, ms);
    timers.add(timer);
  });
}

/**
 * Applies the faults every phase shares. Returns true when the response is already decided (sent or dropped);
 * a delay only postpones the normal handling.
 */
export async function applyTransportFault(
  fault: Fault | undefined,
  req: IncomingMessage,
  res: ServerResponse,
  timers: Set<NodeJS.Timeout>,
): Promise<boolean> {
  if (fault?.type === "delay") await sleep(fault.ms, timers);
  if (fault?.type === "http") sendHttpFault(res, fault);
  if (fault?.type === "drop") dropConnection(req);
  return fault?.type === "http" || fault?.type === "drop";
}
