import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { RemoteCredentials } from "../types.js";

/** `ini`, loaded on the first profile read: the options are resolved on every build, the profile rarely read. */
const parseIni = (text: string): Record<string, unknown> =>
  (createRequire(import.meta.url)("ini") as typeof import("ini")).parse(text);

/*
 * A profile of the AWS shared files, read as the AWS CLI reads them: `~/.aws/credentials` and `~/.aws/config`
 * (or AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE), the profile AWS_PROFILE names (`default` otherwise). What
 * the shared cache takes from it: static keys (with a session token), or the command that prints them
 * (`credential_process`), the region and the endpoint (`endpoint_url`). A profile that gets its keys some other way
 * (SSO, an assumed role) needs the AWS SDK to run that; it is named, so the error can say how to export the keys
 * instead.
 */

export interface AwsProfile {
  /** The profile's name, and whether the environment named it (AWS_PROFILE) rather than it being `default`. */
  readonly name: string;
  readonly named: boolean;
  /** Where it was looked for. */
  readonly files: readonly string[];
  /** Whether either file has a section for it. */
  readonly found: boolean;
  readonly credentials: RemoteCredentials | undefined;
  readonly region: string | undefined;
  /** `endpoint_url`: an S3-compatible store's origin (MinIO, R2...), as the AWS CLI takes it from a profile. */
  readonly endpoint: string | undefined;
  /** `credential_process`: a command that prints the keys, when the profile holds none itself. */
  readonly process: string | undefined;
  /** The setting through which the profile gets keys that only the AWS SDK can get (`sso_session`, `role_arn`...). */
  readonly indirect: string | undefined;
}

/** Settings by which a profile gets its keys at run time instead of holding them. */
const INDIRECT = ["sso_session", "sso_start_url", "role_arn", "web_identity_token_file", "login_session"];

function readEnv(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/**
 * The profile of `env`, or undefined when the environment names no home folder and no file (the shared files are
 * found from HOME, or USERPROFILE on Windows, as the AWS CLI finds them).
 */
export function awsProfile(env: NodeJS.ProcessEnv): AwsProfile | undefined {
  const home = readEnv(env, "HOME") ?? readEnv(env, "USERPROFILE");
  const file = (variable: string, name: string) => {
    const set = readEnv(env, variable);
    if (set) return set.startsWith("~/") && home ? path.join(home, set.slice(2)) : set;
    return home ? path.join(home, ".aws", name) : undefined;
  };
  const credentialsFile = file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
  const configFile = file("AWS_CONFIG_FILE", "config");
  if (!credentialsFile && !configFile) return undefined;
  const given = readEnv(env, "AWS_PROFILE") ?? readEnv(env, "AWS_DEFAULT_PROFILE");
  const name = given ?? "default";
  const fromCredentials = section(credentialsFile, name);
  // The config file names its sections `[profile name]`, except `[default]`.
  const fromConfig = section(configFile, name === "default" ? "default" : `profile ${name}`);
  const value = (field: string) => text(fromCredentials?.[field]) ?? text(fromConfig?.[field]);
  const accessKeyId = value("aws_access_key_id");
  const secretAccessKey = value("aws_secret_access_key");
  const credentials =
    accessKeyId && secretAccessKey
      ? Object.freeze({ accessKeyId, secretAccessKey, sessionToken: value("aws_session_token") })
      : undefined;
  return {
    name,
    named: given !== undefined,
    files: [credentialsFile, configFile].filter((f): f is string => f !== undefined),
    found: fromCredentials !== undefined || fromConfig !== undefined,
    credentials,
    region: text(fromConfig?.region),
    endpoint: text(fromConfig?.endpoint_url),
    process: credentials ? undefined : value("credential_process"),
    indirect: credentials ? undefined : INDIRECT.find((field) => value(field) !== undefined),
  };
}

/** A section of an INI file, or undefined when the file or the section is not there. */
function section(file: string | undefined, name: string): Record<string, unknown> | undefined {
  if (!file) return undefined;
  let textOf: string;
  try {
    textOf = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  // `ini` reads a dot in a section name as nesting (`[profile a.b]` is `profile a` > `b`): walked back here.
  let found: unknown = parseIni(textOf);
  for (const part of name.split(".")) found = (found as Record<string, unknown> | undefined)?.[part];
  return typeof found === "object" && found !== null ? (found as Record<string, unknown>) : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}
