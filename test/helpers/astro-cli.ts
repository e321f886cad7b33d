import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { runNode } from "./run-node.js";

const ASTRO_BIN = fileURLToPath(new URL("../node_modules/astro/bin/astro.mjs", import.meta.url));
const TSC = fileURLToPath(new URL("../node_modules/typescript/bin/tsc", import.meta.url));
const TEST_DIR = fileURLToPath(new URL("..", import.meta.url));

/**
 * `@astrojs/check` loads a WebAssembly build of the Astro-to-TSX compiler. Probed in a child process, because a
 * broken install crashes the importing process. CI must run it: there a broken install fails loudly.
 */
export function astroCheckLoads(): boolean {
  const probe = spawnSync(process.execPath, ["--input-type=module", "-e", 'await import("@astrojs/check")'], {
    cwd: TEST_DIR,
    encoding: "utf8",
  });
  if (probe.status === 0) return true;
  const message = `@astrojs/check cannot be loaded here, so the \`astro check\` tests cannot run:\n${probe.stderr.slice(0, 600)}`;
  if (process.env.CI) throw new Error(message);
  process.stderr.write(`\n!!! SKIPPED: ${message}\n\n`);
  return false;
}

/** `tsc --noEmit -p <root>/<tsconfig>` with the workspace's TypeScript. */
export function runTsc(root: string, tsconfig = "tsconfig.json") {
  return spawnSync(process.execPath, [TSC, "--noEmit", "-p", `${root}/${tsconfig}`], {
    cwd: root,
    encoding: "utf8",
  });
}

/**
 * The environment for a child `astro` process: this one's, minus Vitest's markers. Astro switches its dev-server
 * request handler off when `VITEST` is set (it assumes it is running inside `getViteConfig`), so `astro dev` and
 * `astro check` run as real child processes, the way users run them.
 */
export function astroEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith("VITEST") && key !== "NODE_ENV") env[key] = value;
  }
  return { ...env, ASTRO_TELEMETRY_DISABLED: "1", NO_COLOR: "1", FORCE_COLOR: "0", ...extra };
}

/** Runs `astro <args>` to completion. */
export function runAstro(
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = astroEnv(),
): Promise<{ code: number | null; output: string }> {
  return runNode([ASTRO_BIN, ...args], { cwd, env });
}

export interface AstroDevServer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  readonly url: string;
  /** Everything the server printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/** Starts `astro dev` on a free port and resolves once it prints its local URL. */
export function startAstroDev(root: string, env: NodeJS.ProcessEnv = astroEnv()): Promise<AstroDevServer> {
  const child: ChildProcess = spawn(
    process.execPath,
    [ASTRO_BIN, "dev", "--root", root, "--host", "127.0.0.1", "--port", "0"],
    { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = /Local\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1]) resolve({ url: match[1], output: () => output, stop });
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("error", reject);
    child.once("exit", (code) =>
      reject(new Error(`astro dev exited with ${code} before it was ready:\n${output}`)),
    );
  });
}
