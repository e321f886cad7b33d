import { exec } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { type Dispatcher, request } from "undici";
import type { CredentialSource, RemoteCredentials } from "../types.js";

/*
 * Temporary keys of the role a machine runs as, where the AWS tools find them when the environment and the profile
 * hold none: the container credentials endpoint of ECS, CodeBuild and EKS Pod Identity
 * (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI, with AWS_CONTAINER_AUTHORIZATION_TOKEN or its _FILE), else
 * an EC2 instance's metadata service, version 2 (a session token first, then the role's keys). Both answer the same
 * JSON. The keys expire: they are fetched again a few minutes before. A profile's `credential_process` is run the
 * same way: it prints the keys as JSON (version 1 of the AWS format) and says when they expire.
 */

export interface RoleCredentials extends RemoteCredentials {
  /** When they stop working (ms since the epoch); undefined when the endpoint does not say. */
  readonly expiresAt: number | undefined;
}

/** The metadata service answers in milliseconds where it exists; elsewhere a build must not wait long to learn so. */
const METADATA_TIMEOUT_MS = 1_000;
/** Keys this close to their end are fetched again. */
export const REFRESH_BEFORE_MS = 5 * 60_000;

/** A credential process that prints nothing within this long is stopped (an SSO login waiting for a person). */
const PROCESS_TIMEOUT_MS = 60_000;

/**
 * The keys from `source`, or undefined when there is no such endpoint here (not on EC2, or no role). Rejects, with
 * a message that holds nothing the command printed, when a credential process fails.
 */
export async function roleCredentials(
  source: CredentialSource,
  dispatcher: Dispatcher,
  signal?: AbortSignal,
): Promise<RoleCredentials | undefined> {
  if (source.kind === "process") return processCredentials(source.command, source.profile, signal);
  if (source.kind === "container") {
    const authorization =
      source.authorization ??
      (source.authorizationFile ? (await readFile(source.authorizationFile, "utf8")).trim() : undefined);
    const answer = await get(source.url, authorization ? { authorization } : {}, dispatcher, signal);
    return answer === undefined ? undefined : parseCredentials(answer);
  }
  const base = source.endpoint.replace(/\/+$/, "");
  const token = await call(
    `${base}/latest/api/token`,
    "PUT",
    { "x-aws-ec2-metadata-token-ttl-seconds": "21600" },
    dispatcher,
    signal,
  ).catch(() => undefined);
  // No metadata service: this is not an EC2 instance (or its metadata is off).
  if (token === undefined) return undefined;
  const headers = { "x-aws-ec2-metadata-token": token };
  const roles = await get(`${base}/latest/meta-data/iam/security-credentials/`, headers, dispatcher, signal);
  const role = roles?.split("\n")[0]?.trim();
  if (!role) return undefined;
  const answer = await get(
    `${base}/latest/meta-data/iam/security-credentials/${encodeURIComponent(role)}`,
    headers,
    dispatcher,
    signal,
  );
  return answer === undefined ? undefined : parseCredentials(answer);
}

/** A GET's body, or undefined on a 404 (nothing there). */
async function get(
  url: string,
  headers: Record<string, string>,
  dispatcher: Dispatcher,
  signal: AbortSignal | undefined,
): Promise<string | undefined> {
  try {
    return await call(url, "GET", headers, dispatcher, signal);
  } catch (error) {
    if ((error as { status?: unknown }).status === 404) return undefined;
    throw error;
  }
}

async function call(
  url: string,
  method: "GET" | "PUT",
  headers: Record<string, string>,
  dispatcher: Dispatcher,
  signal: AbortSignal | undefined,
): Promise<string> {
  const response = await request(url, {
    method,
    headers,
    dispatcher,
    headersTimeout: METADATA_TIMEOUT_MS,
    bodyTimeout: METADATA_TIMEOUT_MS,
    signal: signal
      ? AbortSignal.any([signal, AbortSignal.timeout(METADATA_TIMEOUT_MS * 2)])
      : AbortSignal.timeout(METADATA_TIMEOUT_MS * 2),
  });
  const body = await response.body.text();
  if (response.statusCode !== 200) {
    throw Object.assign(new Error(`${method} ${new URL(url).pathname} answered ${response.statusCode}`), {
      status: response.statusCode,
    });
  }
  return body;
}

/**
 * Runs a profile's credential process as the AWS SDK for JavaScript does (through the shell), and reads the keys it
 * prints: `{ Version: 1, AccessKeyId, SecretAccessKey, SessionToken?, Expiration? }`. Its stderr is not kept: the
 * AWS guides warn that such tools may write secrets there.
 */
async function processCredentials(
  command: string,
  profile: string,
  signal: AbortSignal | undefined,
): Promise<RoleCredentials> {
  const what = `The credential_process of the AWS profile "${profile}"`;
  let stdout: string;
  try {
    ({ stdout } = await promisify(exec)(command, {
      timeout: PROCESS_TIMEOUT_MS,
      maxBuffer: 1024 * 1024,
      windowsHide: true,
      ...(signal ? { signal } : {}),
    }));
  } catch (error) {
    const { code, killed } = error as { code?: unknown; killed?: unknown };
    throw new Error(
      killed
        ? `${what} printed no keys within ${PROCESS_TIMEOUT_MS / 1000} s and was stopped.`
        : `${what} failed${typeof code === "number" ? ` with exit code ${code}` : ""}.`,
    );
  }
  const keys = parseCredentials(stdout, PROCESS_FORMAT);
  if (!keys) {
    throw new Error(
      `${what} printed no keys as the AWS tools expect them: JSON with "Version": 1, "AccessKeyId" and "SecretAccessKey".`,
    );
  }
  return keys;
}

/** How an answer names its session token, and the `Version` it must carry, if any. */
interface CredentialsFormat {
  readonly token: "Token" | "SessionToken";
  readonly version?: number;
}
/** The endpoints' answer: `{ AccessKeyId, SecretAccessKey, Token, Expiration }`. */
const ENDPOINT_FORMAT: CredentialsFormat = { token: "Token" };
/** A credential process's: `{ Version: 1, AccessKeyId, SecretAccessKey, SessionToken, Expiration }`. */
const PROCESS_FORMAT: CredentialsFormat = { token: "SessionToken", version: 1 };

function parseCredentials(text: string, format = ENDPOINT_FORMAT): RoleCredentials | undefined {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const { AccessKeyId, SecretAccessKey, Expiration } = value;
  const Token = value[format.token];
  if (format.version !== undefined && value.Version !== format.version) return undefined;
  if (typeof AccessKeyId !== "string" || typeof SecretAccessKey !== "string") return undefined;
  const expiresAt = typeof Expiration === "string" ? Date.parse(Expiration) : Number.NaN;
  return Object.freeze({
    accessKeyId: AccessKeyId,
    secretAccessKey: SecretAccessKey,
    sessionToken: typeof Token === "string" ? Token : undefined,
    expiresAt: Number.isNaN(expiresAt) ? undefined : expiresAt,
  });
}
