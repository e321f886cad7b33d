import { createServer } from "node:net";
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { startEmulator } from "../../../maxapi-emulator/src/index.js";
import { formatError, isGrokImageError } from "../errors.js";
import { generation, useEmulatorClient } from "./__test__/support.js";
import { createMaxApiClient } from "./maxapi-client.js";

const KEY = "sk-live-REDACTION-CANARY-4d9b1f";

const reasons: string[] = [];

const api = useEmulatorClient({
  key: KEY,
  latencyMs: 40,
  resetBeforeEach: false,
  clientOptions: {
    minRetryDelayMs: 1,
    maxRetryDelayMs: 5,
    poll: { initialDelayMs: 15, maxDelayMs: 30 },
    onRetry: (info) => reasons.push(info.reason),
  },
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
  const { taskId } = await api.client.submit(generation(prompt));
  const info = await api.client.waitForTask(taskId, { deadline: Date.now() + 20_000 });
  return info.result?.urls[0] ?? "";
}

describe("the API key", () => {
  it("appears in no error, cause chain or retry report, even when the server echoes it", async () => {
    const errors: unknown[] = [];
    const collect = async (run: () => Promise<unknown>) => errors.push(await failure(run));

    api.emu.inject({
      phase: "submit",
      times: 3,
      fault: { type: "http", status: 500, msg: `bad token ${KEY}` },
    });
    await collect(() => api.client.submit(generation("echoed key")));
    api.emu.inject({ phase: "submit", times: 1, fault: { type: "moderation" } });
    await collect(() => api.client.submit(generation("moderated")));
    api.emu.inject({ phase: "submit", times: 1, fault: { type: "accept-then-drop" } });
    await collect(() => api.client.submit(generation("dropped")));
    await collect(() => api.client.submit({ ...generation("bad n"), n: 99 }));
    await collect(() => api.client.getTask("no-such-task"));
    await collect(() => api.client.waitForTask("no-such-task", { deadline: Date.now() + 5 }));
    await collect(() => api.client.getTask("x", { signal: AbortSignal.abort() }));
    api.emu.inject({
      phase: "submit",
      prompt: "fails",
      times: 1,
      fault: { type: "outcome", status: "FAILURE" },
    });
    const failing = await api.client.submit(generation("fails"));
    await collect(() => api.client.waitForTask(failing.taskId, { deadline: Date.now() + 20_000 }));

    const url = await finishedUrl("downloads");
    for (const fault of [{ type: "expired" }, { type: "corrupt" }, { type: "truncated" }] as const) {
      api.emu.inject({ phase: "download", fault });
      await collect(() => api.client.download(url));
      api.emu.clearFaults();
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
    expect(api.emu.counters.cdnAuthorizationHeaders).toBe(0);
  });
});
