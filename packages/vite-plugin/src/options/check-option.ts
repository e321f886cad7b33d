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
  return new GrokImageError("GROK_BAD_OPTION", `Invalid grok-image ${where}: ${what}.`, {
    hint: hint ?? defaultHint(source),
  });
}

/** Every option error says what to do, even when the accepted values in the message are the whole story. */
function defaultHint(source: Source): string {
  return source.env
    ? `Fix ${source.env}, or unset it to use the default.`
    : `Give "${source.option}" one of the accepted values, or leave it out to use its default.`;
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

export function checkHttpUrl(value: unknown, source: Source, kind: string, hint?: string): URL {
  if (typeof value === "string" && value.trim() === "") {
    throw badOption(source, `it is ${source.env ? "set but " : ""}empty, which is not ${kind}`, hint);
  }
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
    throw badOption(source, `${shown} is not ${kind}. Accepted values: http:// or https:// URLs`, hint);
  }
  return url;
}

const BASE_URL_HINT =
  "Set it to the API origin, e.g. https://api.maxapi.io (the default when it is not set) or " +
  "http://127.0.0.1:4010 for a local maxapi-emulator.";

export function resolveBaseUrl(value: unknown, source: Source): string {
  const url = checkHttpUrl(value, source, "an API origin", BASE_URL_HINT);
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
      BASE_URL_HINT,
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
