import { createServer } from "node:net";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../../maxapi-emulator/src/index.js";
import { formatError, isGrokImageError } from "../errors.js";
import type { Generation } from "../types.js";
import { createMaxApiClient, type MaxApiClient } from "./maxapi-client.js";

const KEY = "sk-live-REDACTION-CANARY-4d9b1f";

const generation = (prompt: string): Generation => ({
  model: "grok-imagine/text-to-image-lite",
  tier: "lite",
  prompt,
  n: 1,
  ratio: null,
  resolution: null,
  v: null,
});

let emu: Emulator;
let client: MaxApiClient;
const reasons: string[] = [];

beforeAll(async () => {
  emu = await startEmulator({ apiKeys: [KEY], latencyMs: 40, imageScale: 0.25 });
  client = createMaxApiClient({
    apiKey: KEY,
    baseUrl: emu.url,
    minRetryDelayMs: 1,
    maxRetryDelayMs: 5,
    poll: { initialDelayMs: 15, maxDelayMs: 30 },
    onRetry: (info) => reasons.push(info.reason),
  });
});
afterAll(async () => {
  await client.close();
  await emu.close();
});

async function failure(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error("expected a failure");
}

async function finishedUrl(prompt: string): Promise<string> {
  const { taskId } = await client.submit(generation(prompt));
  const info = await client.waitForTask(taskId, { deadline: Date.now() + 20_000 });
  return info.result?.urls[0] ?? "";
}

describe("the API key", () => {
  it("appears in no error, cause chain or retry report, even when the server echoes it", async () => {
    const errors: unknown[] = [];
    const collect = async (run: () => Promise<unknown>) => errors.push(await failure(run));

    emu.inject({ phase: "submit", times: 3, fault: { type: "http", status: 500, msg: `bad token ${KEY}` } });
    await collect(() => client.submit(generation("echoed key")));
    emu.inject({ phase: "submit", times: 1, fault: { type: "moderation" } });
    await collect(() => client.submit(generation("moderated")));
    emu.inject({ phase: "submit", times: 1, fault: { type: "accept-then-drop" } });
    await collect(() => client.submit(generation("dropped")));
    await collect(() => client.submit({ ...generation("bad n"), n: 99 }));
    await collect(() => client.getTask("no-such-task"));
    await collect(() => client.waitForTask("no-such-task", { deadline: Date.now() + 5 }));
    await collect(() => client.getTask("x", { signal: AbortSignal.abort() }));
    emu.inject({ phase: "submit", prompt: "fails", times: 1, fault: { type: "outcome", status: "FAILURE" } });
    const failing = await client.submit(generation("fails"));
    await collect(() => client.waitForTask(failing.taskId, { deadline: Date.now() + 20_000 }));

    const url = await finishedUrl("downloads");
    for (const fault of [{ type: "expired" }, { type: "corrupt" }, { type: "truncated" }] as const) {
      emu.inject({ phase: "download", fault });
      await collect(() => client.download(url));
      emu.clearFaults();
    }

    const other = await startEmulator({ apiKeys: ["sk-another-key"] });
    const refused = createMaxApiClient({ apiKey: KEY, baseUrl: other.url, minRetryDelayMs: 1 });
    await collect(() => refused.submit(generation("refused key")));
    await refused.close();
    await other.close();

    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const offline = createMaxApiClient({
      apiKey: KEY,
      baseUrl: `http://127.0.0.1:${port}`,
      minRetryDelayMs: 1,
    });
    await collect(() => offline.getTask("t"));
    await offline.close();

    expect(errors).toHaveLength(13);
    for (const error of errors) {
      expect(isGrokImageError(error)).toBe(true);
      const text = [
        inspect(error, { depth: 12, showHidden: true }),
        formatError(error as never),
        JSON.stringify(error),
        String((error as Error).cause),
      ].join("\n");
      expect(text).not.toContain(KEY);
    }
    expect(reasons.length).toBeGreaterThan(0);
    expect(reasons.join("\n")).not.toContain(KEY);
    expect(reasons.join("\n")).toContain("[redacted]");
    expect(emu.counters.cdnAuthorizationHeaders).toBe(0);
  });
});
