import { GrokImageError } from "../errors.js";

/*
 * The two ways a shared cache fails a build (SPEC section 12): it cannot be reached, or it refuses the
 * credentials. Either stops the build before anything is paid for: a machine that cannot read the shared cache
 * cannot know whether another machine already paid. Messages name the store by its `s3://` URL and the request by
 * method and object name; credentials never appear (requests are signed, no key is ever in a URL).
 */

/** Said with every failure: the shared cache failing is never a reason to pay. */
const NOT_PAID =
  "Nothing was submitted to MaxAPI because of it: a build that cannot use the shared cache pays for nothing.";

const AUTH_HINT =
  "Check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary keys): the key must exist " +
  "on this store and may read, write and delete objects under the cache's prefix. To build without the shared " +
  "cache, set GROK_IMAGE_REMOTE_CACHE to an empty value or remoteCache: false.";

export function remoteAuthError(store: string, what: string, detail: string, hint?: string): GrokImageError {
  return new GrokImageError(
    "GROK_REMOTE_CACHE_AUTH",
    `The shared cache ${store} refused the credentials (${detail}) for ${what}. ${NOT_PAID}`,
    { hint: hint ?? AUTH_HINT, isRetryable: false },
  );
}

export function noCredentialsError(store: string, hint: string): GrokImageError {
  return new GrokImageError(
    "GROK_REMOTE_CACHE_AUTH",
    `No credentials are set for the shared cache ${store}. ${NOT_PAID}`,
    { hint },
  );
}

export function remoteUnavailableError(
  store: string,
  what: string,
  detail: string,
  options: { hint?: string; cause?: unknown; status?: number } = {},
): GrokImageError {
  return new GrokImageError(
    "GROK_REMOTE_CACHE_UNAVAILABLE",
    `The shared cache ${store} could not be used: ${what} ${detail}. ${NOT_PAID}`,
    {
      hint:
        options.hint ??
        "Check that the store is up and that AWS_ENDPOINT_URL_S3 / the remoteCache endpoint and region are right, then build again. To build without the shared cache, set GROK_IMAGE_REMOTE_CACHE to an empty value or remoteCache: false.",
      cause: options.cause,
      isRetryable: true,
      ...(options.status === undefined ? {} : { status: options.status }),
    },
  );
}

/** Whether an error is one of the shared cache's own (as opposed to a local cache or API failure). */
export function isRemoteCacheError(error: unknown): error is GrokImageError {
  return (
    GrokImageError.isInstance(error) &&
    (error.code === "GROK_REMOTE_CACHE_AUTH" || error.code === "GROK_REMOTE_CACHE_UNAVAILABLE")
  );
}
