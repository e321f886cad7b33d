import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

/*
 * Who may use the workbench. A dev server answers anything that reaches it: a page on another site (or on another
 * localhost port, which browsers count as the same site) can send it requests, and with `--host` so can the LAN.
 * The workbench's reads show the project's prompts and hand out the token; its actions write source files and lead
 * to paid generations. So every workbench request must come from a page of this very origin, and every action
 * must also carry the per-server token, which only such a page can read (it is in the workbench's own HTML).
 * Actions also only answer this machine: with `--host`, a client on the network can read the page (and so the
 * token), as it can read every source file the server serves, but it must not edit them or spend the budget.
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

/** Loopback addresses, as Node reports a socket's remote end (IPv4, IPv6, and IPv4 mapped into IPv6). */
const LOOPBACK = /^(?:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/;

/** Why an action may not come from where it came from (another machine), or undefined for this machine. */
export function remoteReason(req: IncomingMessage): string | undefined {
  const address = req.socket?.remoteAddress;
  if (address !== undefined && LOOPBACK.test(address)) return undefined;
  return `its actions only answer this machine, and the request came from ${address ?? "an unknown address"}`;
}
