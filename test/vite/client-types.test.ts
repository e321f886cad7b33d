import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const TSC = fileURLToPath(new URL("../../node_modules/.bin/tsc", import.meta.url));
const FIXTURE = fileURLToPath(new URL("../fixtures/vite-types/", import.meta.url));

/** Type-checks the fixture with one of its tsconfig files; never rejects, returns tsc's exit code and output. */
async function typecheck(tsconfig: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await run(TSC, ["--noEmit", "-p", tsconfig], { cwd: FIXTURE });
    return { code: 0, output: stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: `${failed.stdout}${failed.stderr}` };
  }
}

describe("vite-plugin-grok-image/client", () => {
  it("types grok: imports (default, images, alt) in a project that references it", async () => {
    const { code, output } = await typecheck("tsconfig.json");
    expect(output).toBe("");
    expect(code).toBe(0);
  });

  it("is what makes them type-check: without it, the same project fails", async () => {
    const { code, output } = await typecheck("tsconfig.no-client.json");
    expect(code).not.toBe(0);
    expect(output).toContain("Cannot find module 'grok:a misty forest at dawn?w=640'");
  });
});
