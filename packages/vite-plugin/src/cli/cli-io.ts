import { formatError, GrokImageError, redact } from "../errors.js";

/** Where a command writes. `process.stdout` and `process.stderr` fit; tests pass collectors. */
export interface OutputStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean | undefined;
  readonly columns?: number | undefined;
}

/** Everything a command touches outside its arguments, so tests can run commands in-process. */
export interface CliIO {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly env: NodeJS.ProcessEnv;
  /** Relative paths in arguments (root, `--cache-dir`, `--out`) are resolved against it. */
  readonly cwd: string;
  /** Ctrl-C: stops polling and downloads; submitted tasks stay journaled and resume on the next run. */
  readonly signal?: AbortSignal | undefined;
}

/** Exit codes (SPEC section 6). */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Codes that mean the command was set up wrong, not that an image failed: exit 2. */
const USAGE_CODES: ReadonlySet<string> = new Set(["GROK_BAD_OPTION", "GROK_NO_API_KEY"]);

export function exitCodeFor(error: unknown): ExitCode {
  return GrokImageError.isInstance(error) && USAGE_CODES.has(error.code) ? EXIT.usage : EXIT.failed;
}

/**
 * Prints an error the way every surface of grok-image prints it, led by its `[GROK_...]` code as a build shows it,
 * and returns its exit code.
 */
export function reportError(io: CliIO, error: unknown): ExitCode {
  if (GrokImageError.isInstance(error)) io.stderr.write(`${formatError(error, { code: true })}\n`);
  else io.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return exitCodeFor(error);
}

/** The secrets each guarded IO redacts; a command adds the resolved key once it knows it. */
const guardedSecrets = new WeakMap<CliIO, Set<string>>();

/**
 * Wraps the output streams so that the API key, should any message ever echo it, is printed as `[redacted]`.
 * The core never puts the key in a message; this is the last line of defence on the one surface that prints
 * whatever reaches it. The key may also come from a config or `.env` file: `redactSecret` adds it later, and
 * every stream taken from the guarded IO (progress included) redacts it from then on.
 */
export function guardIo(io: CliIO): CliIO {
  const secrets = new Set<string>();
  const redactAll = (chunk: string) => [...secrets].reduce(redact, chunk);
  const guard = (stream: OutputStream): OutputStream => ({
    write: (chunk: string) => stream.write(redactAll(chunk)),
    isTTY: stream.isTTY,
    columns: stream.columns,
  });
  const guarded: CliIO = { ...io, stdout: guard(io.stdout), stderr: guard(io.stderr) };
  guardedSecrets.set(guarded, secrets);
  redactSecret(guarded, io.env.MAXAPI_KEY);
  return guarded;
}

/**
 * Makes an IO made by `guardIo` redact one more secret; does nothing for other IOs. Any length: `redact` replaces
 * the key only where it stands as a whole token, so even a short key never cuts letters out of other words.
 */
export function redactSecret(io: CliIO, secret: string | undefined): void {
  const value = secret?.trim();
  if (value) guardedSecrets.get(io)?.add(value);
}

/** Whether the CI variable is set the way CI systems set it (any value but empty, 0, false, no, off). */
export function isCi(env: NodeJS.ProcessEnv): boolean {
  const value = env.CI?.trim().toLowerCase();
  return value !== undefined && value !== "" && !["0", "false", "no", "off"].includes(value);
}

/** Human-readable byte counts for prune and gallery reports. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
