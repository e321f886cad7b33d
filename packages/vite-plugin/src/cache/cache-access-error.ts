import { GrokImageError } from "../errors.js";

/*
 * The file-system refusals a user can meet with the cache directory, worded as what to do about them. A bare
 * `ENOTDIR: not a directory, mkdir '.grok-images/originals'` names neither the option nor the fix.
 */

/** errno codes that mean "this directory cannot be used as it is", not a passing hiccup. */
const REFUSALS: Readonly<Record<string, string>> = {
  ENOTDIR: "a file stands where a folder is needed",
  EEXIST: "a file stands where a folder is needed",
  EISDIR: "a folder stands where a file is needed",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "the file system is read-only",
  ENOSPC: "the disk is full",
  EDQUOT: "the disk quota is used up",
};

/**
 * The error to throw instead of `error` when it is one of the refusals above, raised while using `path` (default:
 * the path the error names) inside the cache directory `cacheDir`; undefined for any other error, which the caller
 * rethrows as it is.
 */
export function cacheAccessError(
  error: unknown,
  cacheDir: string,
  path?: string,
): GrokImageError | undefined {
  if (GrokImageError.isInstance(error)) return undefined;
  const errno = error as NodeJS.ErrnoException | null;
  const code = errno?.code;
  const why = code === undefined ? undefined : REFUSALS[code];
  // EEXIST means a file in the way only for a mkdir; elsewhere it is a race the caller handles.
  if (why === undefined || (code === "EEXIST" && errno?.syscall !== "mkdir")) return undefined;
  const at = path ?? errno?.path;
  const where = at !== undefined && at !== cacheDir ? ` at ${at}` : "";
  return new GrokImageError(
    "GROK_CACHE_UNWRITABLE",
    `The grok-image cache directory ${cacheDir} cannot be used: ${why} (${code}${where}).`,
    { hint: hintFor(code as string, cacheDir), cause: error },
  );
}

function hintFor(code: string, cacheDir: string): string {
  const elsewhere = "or point the cacheDir option (or GROK_IMAGE_CACHE_DIR) at a folder this user can write.";
  switch (code) {
    case "ENOTDIR":
    case "EEXIST":
    case "EISDIR":
      return `Move or delete the file in the way (the cache is a folder of folders: ${cacheDir}/originals, /variants, ...), ${elsewhere}`;
    case "EACCES":
    case "EPERM":
      return `Give this user write access to ${cacheDir} (e.g. chmod -R u+w, or chown it to the user running the build), ${elsewhere}`;
    case "EROFS":
      return `Mount it writable, ${elsewhere} In CI, restore the cache into the workspace rather than a read-only volume.`;
    default:
      return `Free some space on the disk that holds ${cacheDir}, ${elsewhere}`;
  }
}
