import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const repoDir = join(packageDir, "..", "..");
const cli = join(packageDir, "dist", "cli.js");
let tempDir: string;

beforeAll(async () => {
  execFileSync(process.execPath, [join(repoDir, "node_modules/typescript/bin/tsc"), "-b", packageDir], {
    stdio: "inherit",
  });
  tempDir = await mkdtemp(join(tmpdir(), "maxapi-emulator-cli-"));
});
afterAll(() => rm(tempDir, { recursive: true, force: true }));

async function firstLines(child: ChildProcess, count: number): Promise<string[]> {
  const lines: string[] = [];
  const reader = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  for await (const line of reader) {
    lines.push(line);
    if (lines.length === count) break;
  }
  return lines;
}

describe("maxapi-emulator CLI", () => {
  it("prints its URL, serves the API and CDN, and exits cleanly on SIGTERM", async () => {
    const faultsFile = join(tempDir, "faults.json");
    await writeFile(
      faultsFile,
      JSON.stringify([{ phase: "submit", prompt: "/^forbidden/i", fault: { type: "moderation" } }]),
    );
    const child = spawn(
      process.execPath,
      [
        cli,
        "--port",
        "0",
        "--latency",
        "30",
        "--image-scale",
        "0.1",
        "--api-key",
        "k1",
        "--faults",
        faultsFile,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    try {
      const [first, second] = await firstLines(child, 2);
      const url = /^maxapi-emulator listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(first ?? "")?.[1];
      expect(url).toBeDefined();
      expect(second).toBe(`MAXAPI_BASE_URL=${url}`);

      const headers = { authorization: "Bearer k1", "content-type": "application/json" };
      const post = (prompt: string) =>
        fetch(`${url}/api/v1/task/submit`, {
          method: "POST",
          headers,
          body: JSON.stringify({ model: "grok-imagine/text-to-image-lite", input: { prompt } }),
        });
      expect((await post("Forbidden fruit")).status).toBe(400);
      const { data } = (await (await post("a cli test")).json()) as { data: { taskId: string } };
      let task: { status: string; result: { urls: string[] } | null };
      do {
        const res = await fetch(`${url}/api/v1/task/${data.taskId}`, { headers });
        task = ((await res.json()) as { data: typeof task }).data;
      } while (task.status !== "SUCCESS");
      const image = await fetch(task.result?.urls[0] as string);
      expect(image.headers.get("content-type")).toBe("image/jpeg");
      expect((await image.arrayBuffer()).byteLength).toBeGreaterThan(100);
    } finally {
      child.kill("SIGTERM");
    }
    const [code, signal] = await once(child, "exit");
    expect({ code, signal }).toEqual({ code: 0, signal: null });
  });

  it("exits 2 with usage on a bad option", async () => {
    const child = spawn(process.execPath, [cli, "--latency", "soon"], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const [code] = await once(child, "exit");
    expect(code).toBe(2);
    expect(stderr).toContain("--latency must be a number");
  });

  it("leaves no open handle after close(): a process using it exits on its own", async () => {
    const index = pathToFileURL(join(packageDir, "dist", "index.js")).href;
    const script = `
      import { startEmulator } from ${JSON.stringify(index)};
      const emulator = await startEmulator({ latencyMs: 60_000, allowPrivateCallbacks: true });
      emulator.inject({ phase: "query", fault: { type: "delay", ms: 60_000 } });
      const headers = { authorization: "Bearer k", "content-type": "application/json" };
      const res = await fetch(emulator.url + "/api/v1/task/submit", { method: "POST", headers,
        body: JSON.stringify({ model: "grok-imagine/text-to-image-lite", input: { prompt: "x" },
          callBackUrl: "http://127.0.0.1:9/hook" }) });
      const { data } = await res.json();
      const pending = fetch(emulator.url + "/api/v1/task/" + data.taskId, { headers }).catch(() => "dropped");
      while (emulator.counters.queries === 0) await new Promise((r) => setTimeout(r, 5));
      await emulator.close();
      console.log(await pending);
    `;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const [line] = await firstLines(child, 1);
    const [code] = await once(child, "exit");
    expect(line).toBe("dropped");
    expect(code).toBe(0);
  });
});
