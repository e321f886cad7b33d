/**
 * One error class for everything grok-image reports to a user. Callers branch on `code`, never on `message`.
 * Messages follow Astro's style: what happened and why; `hint` says what to do. The API key never reaches
 * an error: nothing here ever receives it, and `redact()` below is applied to anything that could echo it (an API
 * answer's message, a user option holding a pasted key).
 */

const BRAND = Symbol.for("grok-image.error");

/** Where a directive is written: 1-based line and column of its first character (the "g" of `grok:`). */
export interface DirectiveLocation {
  /** Absolute path of the file. */
  file: string;
  line: number;
  column: number;
}

export type GrokImageErrorCode =
  /** A `grok:` directive could not be parsed or has a bad parameter. */
  | "GROK_BAD_DIRECTIVE"
  /** A plugin option or environment variable is invalid. */
  | "GROK_BAD_OPTION"
  /** Generation is needed but no API key is configured. */
  | "GROK_NO_API_KEY"
  /** The API refused the key (401/403 or envelope code 401). */
  | "GROK_AUTH"
  /** The prompt was rejected by moderation (submit 400 or task failure_reason CONTENT_MODERATION). */
  | "GROK_MODERATION"
  /** The API rejected the parameters (submit 400 or failure_reason INVALID_PARAMETERS). */
  | "GROK_INVALID_PARAMETERS"
  /** The account has no credits left (failure_reason INSUFFICIENT_POINTS). */
  | "GROK_INSUFFICIENT_POINTS"
  /** The task ended FAILURE / TIMEOUT / CANCELLED. */
  | "GROK_TASK_FAILED"
  /** The task did not finish within the `timeout` option. */
  | "GROK_TIMEOUT"
  /** An HTTP exchange with the API failed after retries (status, network). */
  | "GROK_HTTP_ERROR"
  /** A result download was refused: expired URL, too large, not an image, truncated. */
  | "GROK_DOWNLOAD_REJECTED"
  /** A cache file does not match its recorded hash, or the manifest is unreadable. */
  | "GROK_CACHE_CORRUPT"
  /**
   * The cache directory cannot be used: a file stands where a folder should be, no permission, a read-only file
   * system, a full disk.
   */
  | "GROK_CACHE_UNWRITABLE"
  /** The misses of this build would cost more than `maxCost`. */
  | "GROK_BUDGET_EXCEEDED"
  /** `frozen` mode and at least one directive is not in the cache. */
  | "GROK_FROZEN_MISS"
  /** The shared cache (`remoteCache`) cannot be used: unreachable, timing out, answering 5xx, no such bucket. */
  | "GROK_REMOTE_CACHE_UNAVAILABLE"
  /** The shared cache refused the credentials (unknown key, bad signature, access denied), or none are set. */
  | "GROK_REMOTE_CACHE_AUTH"
  /** The caller aborted (AbortSignal). */
  | "GROK_ABORTED"
  /** A `grok:` image sits where the host cannot resolve it (a content collection `image()` field, built HTML). */
  | "GROK_UNRESOLVED_IMAGE";

export interface GrokImageErrorInit {
  /** What to do about it. Shown under the message. */
  hint?: string;
  /** The directive as written (`grok:...`). */
  directive?: string;
  /** The file that imports the directive. */
  importer?: string;
  taskId?: string;
  /** HTTP status when the error came from an HTTP exchange. */
  status?: number;
  /** Whether trying again could succeed. Retry policies read this. */
  isRetryable?: boolean;
  /** The offending directive parameter, as written (`with` in `?with=960`). */
  param?: string;
  /** The accepted names or values of that parameter, when they form a list. */
  accepted?: readonly string[];
  /** The closest accepted spelling, quoted in the message as "did you mean". */
  didYouMean?: string;
  /** Where the directive is written, when known. */
  loc?: DirectiveLocation;
  /** A code frame of the source around `loc`. */
  frame?: string;
  cause?: unknown;
}

export class GrokImageError extends Error {
  override name = "GrokImageError";
  readonly code: GrokImageErrorCode;
  readonly hint: string | undefined;
  /** As the parser saw it; whoever reads the source may set it as written (Markdown's literal spaces, not `%20`). */
  directive: string | undefined;
  importer: string | undefined;
  readonly taskId: string | undefined;
  readonly status: number | undefined;
  readonly isRetryable: boolean;
  readonly param: string | undefined;
  readonly accepted: readonly string[] | undefined;
  readonly didYouMean: string | undefined;
  /** Set by whoever knows the source (the plugin, the CLI scan); the parser sees only the directive text. */
  loc: DirectiveLocation | undefined;
  frame: string | undefined;
  readonly [BRAND] = true;

  constructor(code: GrokImageErrorCode, message: string, init: GrokImageErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = code;
    this.hint = init.hint;
    this.directive = init.directive;
    this.importer = init.importer;
    this.taskId = init.taskId;
    this.status = init.status;
    this.isRetryable = init.isRetryable ?? false;
    this.param = init.param;
    this.accepted = init.accepted;
    this.didYouMean = init.didYouMean;
    this.loc = init.loc;
    this.frame = init.frame;
  }

  /** Cross-realm check: works when two copies of this package are loaded (Vite config bundling, CLI). */
  static isInstance(value: unknown): value is GrokImageError {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}

export const isGrokImageError = GrokImageError.isInstance;

/** Characters a key is made of; an occurrence of the key glued to one of them is part of another word. */
const TOKEN_CHAR = /[A-Za-z0-9_-]/;

/**
 * Replaces every occurrence of `secret` in `text` that stands as a whole token with `[redacted]`; an empty secret
 * changes nothing. A whole token is bounded on both sides by the start or end of the text or by a character that
 * is not a letter, digit, `_`, `-` or a `.` inside a word: so the key is caught in `Bearer <key>`, a URL
 * (`?key=<key>&`), JSON (`"<key>"`) and at the end of a sentence (`<key>.`), while a short key is never cut out of
 * an unrelated word ("grok-image" stays whole when the key is "k"). Its percent-encoded and JSON-escaped
 * spellings are replaced too.
 */
export function redact(text: string, secret: string): string {
  if (secret.length === 0 || text.length < secret.length) return text;
  let out = text;
  for (const spelling of new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)])) {
    out = replaceTokens(out, spelling);
  }
  return out;
}

function replaceTokens(text: string, secret: string): string {
  // A key that starts or ends with some other character (`+`, `/`, `=` of base64) has a boundary of its own there.
  const checkBefore = TOKEN_CHAR.test(secret[0] ?? "");
  const checkAfter = TOKEN_CHAR.test(secret.at(-1) ?? "");
  let out = "";
  let from = 0;
  for (let at = text.indexOf(secret); at !== -1; at = text.indexOf(secret, at + 1)) {
    const end = at + secret.length;
    if (!(checkBefore && gluedBefore(text, at)) && !(checkAfter && gluedAfter(text, end))) {
      out += `${text.slice(from, at)}[redacted]`;
      from = end;
      // Go on after the replaced occurrence: the next search starts at `end`.
      at = end - 1;
    }
  }
  return from === 0 ? text : out + text.slice(from);
}

/** A terminal color or cursor sequence (`ESC [ 32 m`): its final letter does not glue it to the next word. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: ESC is the sequence's first character.
const ANSI_BEFORE = /\u001b\[[0-9;?]*[A-Za-z]$/;

/** Whether `text[at - 1]` continues a word: a token character, or a `.` with a token character before it. */
function gluedBefore(text: string, at: number): boolean {
  const previous = text[at - 1];
  if (previous === undefined) return false;
  if (ANSI_BEFORE.test(text.slice(Math.max(0, at - 24), at))) return false;
  if (TOKEN_CHAR.test(previous)) return true;
  return previous === "." && TOKEN_CHAR.test(text[at - 2] ?? "");
}

/** Whether `text[end]` continues a word: a token character, or a `.` followed by one (not a full stop). */
function gluedAfter(text: string, end: number): boolean {
  const next = text[end];
  if (next === undefined) return false;
  if (TOKEN_CHAR.test(next)) return true;
  return next === "." && TOKEN_CHAR.test(text[end + 1] ?? "");
}

/**
 * The message a user reads: the message, where it came from, and the hint. Used by the Vite and Astro adapters
 * and the CLI so every surface prints the same text. `location: false` leaves out the location and the code frame,
 * for a host that shows them itself (Vite's `loc` and `frame`). `code: true` starts it with `[GROK_...]`, for a
 * surface that does not show the code otherwise (the CLI; Vite's adapter adds it itself).
 *
 * A cause that is itself a GrokImageError is quoted under `because:` when the message does not already say it:
 * it names what the outer error only summarises (the damaged file behind "the cached image ... is damaged").
 */
export function formatError(
  error: GrokImageError,
  { location = true, code = false }: { location?: boolean; code?: boolean } = {},
): string {
  const lines = [
    code && !error.message.startsWith(`[${error.code}]`) ? `[${error.code}] ${error.message}` : error.message,
  ];
  if (error.directive && !error.message.includes(error.directive))
    lines.push(`  directive: ${error.directive}`);
  // A message that holds the frame (a report of many directives) shows where each one is itself.
  const framed = error.frame !== undefined && error.message.includes(error.frame);
  const where = error.loc ? `${error.loc.file}:${error.loc.line}:${error.loc.column}` : error.importer;
  if (location && where && !framed && !error.message.includes(where)) lines.push(`  in: ${where}`);
  if (error.taskId && !error.message.includes(error.taskId)) lines.push(`  task id: ${error.taskId}`);
  const cause = error.cause;
  if (GrokImageError.isInstance(cause) && !error.message.includes(cause.message)) {
    lines.push(`  because: ${cause.message}`);
  }
  if (location && error.frame && !framed) lines.push(error.frame);
  if (error.hint) lines.push(`  hint: ${error.hint}`);
  return lines.join("\n");
}
