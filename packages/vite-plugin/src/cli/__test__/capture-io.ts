/**
 * Test-only support for the CLI tests: production code never imports this module, and the package build excludes
 * every `__test__` folder so it never reaches `dist/`.
 */
import type { CliIO } from "../cli-io.js";

export interface CapturedIo {
  /** Pass to `runCli` or a command. */
  readonly io: CliIO;
  /** Everything written to stdout so far. */
  readonly out: string;
  /** Everything written to stderr so far. */
  readonly err: string;
}

/**
 * An in-process IO that collects what a command prints. `onWrite` also sees every chunk of either stream, for
 * checks that span several commands (no run ever printed the key).
 */
export function captureIo(
  cwd: string,
  env: NodeJS.ProcessEnv,
  onWrite?: (chunk: string) => void,
): CapturedIo {
  let out = "";
  let err = "";
  const io: CliIO = {
    stdout: {
      write: (chunk: string) => {
        onWrite?.(chunk);
        out += chunk;
      },
    },
    stderr: {
      write: (chunk: string) => {
        onWrite?.(chunk);
        err += chunk;
      },
    },
    env,
    cwd,
  };
  return {
    io,
    get out() {
      return out;
    },
    get err() {
      return err;
    },
  };
}
