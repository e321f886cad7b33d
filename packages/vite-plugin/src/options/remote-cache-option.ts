import path from "node:path";
import { fileURLToPath } from "node:url";
import type {
  CredentialSource,
  RemoteCacheOptions,
  RemoteCredentials,
  ResolvedRemoteCache,
} from "../types.js";
import { type AwsProfile, awsProfile } from "./aws-profile.js";
import { badOption, checkHttpUrl, type Source, show } from "./check-option.js";

/*
 * The `remoteCache` option (SPEC section 12), read the way the AWS tools read their configuration: the location
 * from the option or GROK_IMAGE_REMOTE_CACHE, the endpoint from AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, the
 * region from AWS_REGION (or AWS_DEFAULT_REGION), the keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
 * AWS_SESSION_TOKEN; without those, the endpoint, region and keys of the AWS_PROFILE profile of the AWS shared
 * files (aws-profile.ts). Missing keys are not an error here: a build whose directives all hit the local cache never
 * talks to the store, and the first request that needs them says what to set.
 */

export const REMOTE_CACHE_ENV = "GROK_IMAGE_REMOTE_CACHE";

/** S3's bucket naming rules (the part every S3-compatible store shares). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function readEnv(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/** The shared cache of `user` (the option) or the environment; undefined when none is configured. */
export function resolveRemoteCache(user: unknown, env: NodeJS.ProcessEnv): ResolvedRemoteCache | undefined {
  if (user === false) return undefined;
  let given: RemoteCacheOptions;
  let source: Source = { option: "remoteCache" };
  if (user === undefined) {
    const fromEnv = readEnv(env, REMOTE_CACHE_ENV);
    if (fromEnv === undefined) return undefined;
    given = { url: fromEnv };
    source = { option: "remoteCache", env: REMOTE_CACHE_ENV };
  } else if (typeof user === "string") {
    given = { url: user };
  } else if (typeof user === "object" && user !== null && !Array.isArray(user)) {
    given = user as RemoteCacheOptions;
    for (const key of Object.keys(given)) {
      if (!["url", "endpoint", "region"].includes(key)) {
        throw badOption(
          source,
          `unknown field "${key}". Accepted fields: url, endpoint, region`,
          "Credentials are read from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY only, never from a config file.",
        );
      }
    }
  } else {
    throw badOption(
      source,
      `${show(user)} is not accepted. Accepted values: "s3://bucket/prefix", { url, endpoint, region }, false`,
    );
  }
  if (typeof given.url !== "string" || given.url.trim() === "") {
    throw badOption(
      source,
      `the url ${show(given.url)} is not accepted. Accepted values: "s3://bucket/prefix"`,
    );
  }
  const url = given.url.trim();
  if (url.startsWith("file:")) return fileStore(url, source);
  const m = /^s3:\/\/([^/?#]+)(?:\/([^?#]*))?$/.exec(url);
  if (!m) {
    throw badOption(
      source,
      `${JSON.stringify(url.replace(/\/\/[^/@]*@/, "//***@"))} is not accepted. Accepted values: "s3://bucket/prefix" or "file:///shared/dir"`,
    );
  }
  const bucket = m[1] as string;
  if (!BUCKET.test(bucket) || bucket.includes("..")) {
    throw badOption(
      source,
      `the bucket name ${JSON.stringify(bucket)} is not valid: 3 to 63 lower-case letters, digits, dots and hyphens`,
    );
  }
  const prefix = (m[2] ?? "").replace(/^\/+|\/+$/g, "");
  // Read once, and only when the environment lacks what it holds.
  let profile: AwsProfile | undefined | null = null;
  const sharedProfile = () => {
    if (profile === null) profile = awsProfile(env);
    return profile;
  };
  const envEndpoint = readEnv(env, "AWS_ENDPOINT_URL_S3") ?? readEnv(env, "AWS_ENDPOINT_URL");
  const endpointIn =
    given.endpoint === undefined
      ? envEndpoint === undefined && sharedProfile()?.endpoint !== undefined
        ? { value: sharedProfile()?.endpoint, source: { option: "remoteCache.endpoint", env: "AWS_PROFILE" } }
        : { value: envEndpoint, source: envName(env) }
      : { value: given.endpoint as unknown, source: { option: "remoteCache.endpoint" } };
  const envRegion = readEnv(env, "AWS_REGION") ?? readEnv(env, "AWS_DEFAULT_REGION");
  const profileRegion = given.region === undefined && !envRegion ? sharedProfile()?.region : undefined;
  const regionIn =
    given.region === undefined
      ? {
          value: envRegion ?? profileRegion ?? "us-east-1",
          source: {
            option: "remoteCache.region",
            env: readEnv(env, "AWS_REGION")
              ? "AWS_REGION"
              : envRegion || !profileRegion
                ? "AWS_DEFAULT_REGION"
                : "AWS_PROFILE",
          },
        }
      : { value: given.region as unknown, source: { option: "remoteCache.region" } };
  const region = regionIn.value;
  if (typeof region !== "string" || !/^[a-z0-9-]+$/.test(region)) {
    throw badOption(
      regionIn.source,
      `${show(region)} is not a region. Accepted values: e.g. us-east-1, eu-west-3, auto`,
    );
  }
  let endpoint: string;
  let pathStyle: boolean;
  if (endpointIn.value === undefined) {
    // AWS itself: virtual-hosted style, except for bucket names with dots, which TLS wildcards cannot cover.
    endpoint = region === "us-east-1" ? "https://s3.amazonaws.com" : `https://s3.${region}.amazonaws.com`;
    pathStyle = bucket.includes(".");
  } else {
    endpoint = checkEndpoint(endpointIn.value, endpointIn.source);
    pathStyle = true;
  }
  const fromEnv = readCredentials(env);
  const roleSource = credentialSourceOf(env);
  return Object.freeze({
    url: prefix ? `s3://${bucket}/${prefix}` : `s3://${bucket}`,
    kind: "s3",
    bucket,
    prefix,
    endpoint,
    region,
    pathStyle,
    credentials: () => fromEnv ?? sharedProfile()?.credentials,
    credentialsHint: () => credentialsHint(sharedProfile(), roleSource),
    // The AWS tools' order: the environment's keys, the profile's (held, or printed by its credential_process),
    // then the role the machine runs as.
    credentialSource: () => {
      const profile = sharedProfile();
      return profile?.process
        ? { kind: "process", command: profile.process, profile: profile.name }
        : roleSource;
    },
  } satisfies ResolvedRemoteCache);
}

/** The ECS, CodeBuild and EKS container credentials endpoint, which must not be sent its token in the clear. */
const CONTAINER_HOSTS = new Set(["169.254.170.2", "169.254.170.23", "[fd00:ec2::23]", "localhost", "[::1]"]);

/**
 * Where the role this machine runs as gives its keys, as the AWS SDK finds it: the container credentials endpoint
 * when the environment names one, else the EC2 instance metadata service (unless AWS_EC2_METADATA_DISABLED). None
 * when AWS_PROFILE names a profile: that profile alone decides, as for the AWS tools.
 */
function credentialSourceOf(env: NodeJS.ProcessEnv): CredentialSource | undefined {
  if (readEnv(env, "AWS_PROFILE")) return undefined;
  const relative = readEnv(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  const full = readEnv(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
  if (relative || full) {
    const url = relative ? `http://169.254.170.2${relative}` : (full as string);
    const parsed = URL.canParse(url) ? new URL(url) : undefined;
    const allowed =
      parsed?.protocol === "https:" ||
      (parsed?.protocol === "http:" &&
        (CONTAINER_HOSTS.has(parsed.hostname) || parsed.hostname.startsWith("127.")));
    if (!allowed) {
      throw badOption(
        {
          option: "remoteCache",
          env: relative ? "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI" : "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        },
        `${JSON.stringify(url)} is not a container credentials endpoint: https, or http to a loopback, ECS or EKS address`,
      );
    }
    return {
      kind: "container",
      url,
      authorization: readEnv(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN"),
      authorizationFile: readEnv(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"),
    };
  }
  if (readEnv(env, "AWS_EC2_METADATA_DISABLED")?.toLowerCase() === "true") return undefined;
  return {
    kind: "instance",
    endpoint: readEnv(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT") ?? "http://169.254.169.254",
  };
}

/** What to do when no keys were found: where they were looked for, and what the profile needs instead. */
function credentialsHint(profile: AwsProfile | undefined, source: CredentialSource | undefined): string {
  const set =
    "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary keys) in the environment or a .env file";
  const role =
    source?.kind === "container"
      ? ` The container credentials endpoint ${source.url} gave none.`
      : source?.kind === "instance"
        ? " No EC2 instance role answered either."
        : "";
  if (!profile)
    return `${set}, or HOME so the AWS shared files can be found; keys are never read from the config.${role}`;
  const where = profile.files.join(" and ");
  if (profile.process) {
    return (
      `The AWS profile "${profile.name}" gets its keys from its credential_process, which gave none: run the ` +
      `command yourself to see why, or ${set.toLowerCase()}.`
    );
  }
  if (profile.indirect) {
    return (
      `The AWS profile "${profile.name}" gets its keys through ${profile.indirect}, which only the AWS SDK runs. ` +
      `Export them for the build, e.g. eval "$(aws configure export-credentials --profile ${profile.name} --format env)", or ${set.toLowerCase()}.`
    );
  }
  if (profile.named && !profile.found) {
    return `AWS_PROFILE names the profile "${profile.name}", which neither ${where} holds: fix AWS_PROFILE, or ${set.toLowerCase()}.`;
  }
  return `${set}, or aws_access_key_id and aws_secret_access_key in the "${profile.name}" profile of ${where} (AWS_PROFILE picks the profile); keys are never read from the config.${role}`;
}

function envName(env: NodeJS.ProcessEnv): Source {
  if (readEnv(env, "AWS_ENDPOINT_URL_S3"))
    return { option: "remoteCache.endpoint", env: "AWS_ENDPOINT_URL_S3" };
  return { option: "remoteCache.endpoint", env: "AWS_ENDPOINT_URL" };
}

function checkEndpoint(value: unknown, source: Source): string {
  const url = checkHttpUrl(value, source, "an endpoint");
  if (url.username || url.password) {
    throw badOption(
      source,
      `"${url.origin}" (credentials removed) must not contain credentials`,
      "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY instead: requests are signed with them.",
    );
  }
  if (url.search || url.hash)
    throw badOption(source, `"${url.origin}${url.pathname}" must not have a query or fragment`);
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

function readCredentials(env: NodeJS.ProcessEnv): RemoteCredentials | undefined {
  const accessKeyId = readEnv(env, "AWS_ACCESS_KEY_ID");
  const secretAccessKey = readEnv(env, "AWS_SECRET_ACCESS_KEY");
  if (!accessKeyId || !secretAccessKey) return undefined;
  return Object.freeze({ accessKeyId, secretAccessKey, sessionToken: readEnv(env, "AWS_SESSION_TOKEN") });
}

function fileStore(url: string, source: Source): ResolvedRemoteCache {
  let dir: string;
  try {
    dir = fileURLToPath(url);
  } catch {
    throw badOption(
      source,
      `${JSON.stringify(url)} is not a file URL. Accepted values: "file:///absolute/dir"`,
    );
  }
  dir = path.resolve(dir);
  return Object.freeze({
    url: `file://${dir.split(path.sep).join("/")}`,
    kind: "file",
    bucket: dir,
    prefix: "",
    endpoint: "",
    region: "",
    pathStyle: false,
    credentials: () => undefined,
    credentialsHint: () => "A shared directory needs no credentials.",
    credentialSource: () => undefined,
  } satisfies ResolvedRemoteCache);
}

/** The secrets of a shared cache, for surfaces that redact what they print (the CLI). */
export function remoteSecrets(remote: ResolvedRemoteCache | undefined): string[] {
  const credentials = remote?.credentials();
  if (!credentials) return [];
  return [credentials.secretAccessKey, credentials.sessionToken, credentials.accessKeyId].filter(
    (s): s is string => typeof s === "string",
  );
}
