import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

/*
 * Who may use the workbench. A dev server answers anything that reaches it: a page on another site (or on another
 * localhost port, which browsers count as the same site) can send it requests, and with `--host` so can the LAN.
 * The workbench's reads show the project's prompts and hand out the token; its actions write source files and lead
 * to paid generations. So every workbench request must come from a page of this very origin, and every action
 * must also carry the per-server token, which only such a page can read (it is in the workbench's own HTML).
 */

/** The header that carries the token on actions. */
export const TOKEN_HEADER = "x-grok-image-token";

/** A fresh token per server start: an old page keeps nothing that works against a restarted server. */
export function newToken(): string {
  return randomBytes(24).toString("base64url");
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Why the request is not from this origin, or undefined when it is. `Sec-Fetch-Site` (sent by every current browser)
 * must say same-origin (or none: the user typed the URL); an `Origin`, required on actions, must name this host.
 */
export function crossOriginReason(req: IncomingMessage, action: boolean): string | undefined {
  const site = header(req, "sec-fetch-site");
  if (site !== undefined && site !== "same-origin" && !(site === "none" && !action)) {
    return `the request comes from another site (Sec-Fetch-Site: ${site})`;
  }
  const origin = header(req, "origin");
  if (origin === undefined) return action ? "the request has no Origin header" : undefined;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return `its Origin header (${origin}) is not a URL`;
  }
  return host === header(req, "host") ? undefined : `it comes from ${origin}, not from this dev server`;
}

/** Whether the request carries `token` in its token header (compared in constant time). */
export function hasToken(req: IncomingMessage, token: string): boolean {
  const given = Buffer.from(header(req, TOKEN_HEADER) ?? "");
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
