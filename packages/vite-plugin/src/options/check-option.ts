import { inspect } from "node:util";
import { GrokImageError } from "../errors.js";

/*
 * Checks used by the options resolver. Each names the option (and the environment variable it came from), the
 * bad value and what is accepted. The apiKey option is never passed here; a key pasted into another option is
 * redacted by the resolver before the error leaves it.
 */

export type Source = { option: string; env?: string | undefined };

export function badOption(source: Source, what: string, hint?: string): GrokImageError {
  const where = source.env
    ? `environment variable ${source.env} (option "${source.option}")`
    : `option "${source.option}"`;
  return new GrokImageError("GROK_BAD_OPTION", `Invalid grok-image ${where}: ${what}.`, { hint });
}

/** Shows a user value in a message. */
export function show(value: unknown): string {
  return typeof value === "string"
    ? JSON.stringify(value)
    : inspect(value, { depth: 1, breakLength: Infinity });
}

export function checkPositiveInteger(value: unknown, source: Source): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw badOption(source, `${show(value)} is not accepted. Accepted values: integers >= 1`);
  }
  return value;
}

export function checkBoolean(value: unknown, source: Source): boolean {
  if (typeof value !== "boolean") {
    throw badOption(source, `${show(value)} is not accepted. Accepted values: true, false`);
  }
  return value;
}

export function checkHttpUrl(value: unknown, source: Source, kind: string): URL {
  let url: URL | undefined;
  if (typeof value === "string") {
    try {
      url = new URL(value);
    } catch {}
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    // Credentials in a malformed URL would be echoed below: drop any userinfo-looking prefix first.
    const shown =
      typeof value === "string" ? JSON.stringify(value.replace(/\/\/[^/@]*@/, "//***@")) : show(value);
    throw badOption(source, `${shown} is not ${kind}. Accepted values: http:// or https:// URLs`);
  }
  return url;
}

export function resolveBaseUrl(value: unknown, source: Source): string {
  const url = checkHttpUrl(value, source, "an API origin");
  if (url.username || url.password) {
    url.username = "";
    url.password = "";
    throw badOption(
      source,
      `"${url.href}" (credentials removed) must not contain credentials`,
      "Pass the key as the apiKey option or MAXAPI_KEY: it is sent as a Bearer token, never in the URL.",
    );
  }
  if (url.search || url.hash) {
    throw badOption(
      source,
      `"${url.href}" must not have a query or fragment. Accepted values: an origin with an optional path`,
    );
  }
  // Paths are kept (an API behind a path prefix); trailing slashes go so `${baseUrl}/api/v1/...` is always right.
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

export function resolveMaxCost(value: unknown, source: Source): number | undefined {
  if (value === undefined) return undefined;
  let parsed = value;
  if (typeof value === "string") parsed = /^\d+(?:\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
  if (typeof parsed !== "number" || !Number.isFinite(parsed) || parsed < 0) {
    throw badOption(
      source,
      `${show(value)} is not accepted. Accepted values: a number of US dollars >= 0, e.g. 0.5`,
    );
  }
  return parsed;
}
