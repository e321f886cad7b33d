import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generation, rejection, useEmulatorClient } from "./__test__/support.js";

const KEY = "sk-download-test-93fe10aa";

const api = useEmulatorClient({
  key: KEY,
  latencyMs: 60,
  clientOptions: {
    poll: { initialDelayMs: 20, maxDelayMs: 50, factor: 1.6 },
  },
});

/** Generates one image and returns its result URL. */
async function resultUrl(prompt: string): Promise<{ url: string; taskId: string }> {
  const { taskId } = await api.client.submit(generation(prompt));
  const info = await api.client.waitForTask(taskId, { deadline: Date.now() + 20_000 });
  const url = info.result?.urls[0];
  if (!url) throw new Error("no result URL");
  return { url, taskId };
}

describe("download", () => {
  it("rides out a 5xx storm and a truncated body", async () => {
    const { url, taskId } = await resultUrl("stormy cdn");
    api.emu.inject({ phase: "download", times: 2, fault: { type: "http", status: 503 } });
    api.emu.inject({ phase: "download", times: 1, fault: { type: "truncated", fraction: 0.4 } });
    const bytes = await api.client.download(url, { taskId });
    expect(bytes.length).toBeGreaterThan(0);
    expect(api.retries.map((r) => r.phase)).toEqual(["download", "download", "download"]);
    expect(api.emu.counters.downloads).toBe(4);
    expect(api.emu.counters.cdnAuthorizationHeaders).toBe(0);
  });

  it("rejects a body that keeps being cut short, after retrying it", async () => {
    const { url, taskId } = await resultUrl("always truncated");
    api.emu.inject({ phase: "download", fault: { type: "truncated" } });
    const error = await rejection(api.client.download(url, { taskId }));
    expect(error.code).toBe("GROK_DOWNLOAD_REJECTED");
    expect(error.message).toMatch(/cut off after \d+ of \d+ bytes/);
    expect(error.taskId).toBe(taskId);
    expect(api.emu.counters.downloads).toBe(5);
  });

  it.each([410, 403] as const)(
    "says an expired URL (%i) must be generated again, without retrying",
    async (status) => {
      api.emu.configure({ expiredStatus: status });
      const { url, taskId } = await resultUrl(`expired ${status}`);
      api.emu.inject({ phase: "download", fault: { type: "expired" } });
      const error = await rejection(api.client.download(url, { taskId, label: "grok:old" }));
      expect(error.code).toBe("GROK_DOWNLOAD_REJECTED");
      expect(error.status).toBe(status);
      expect(error.message).toContain("expired");
      expect(error.message).toContain("grok:old");
      expect(error.hint).toMatch(/7 days/);
      expect(error.hint).toMatch(/generated again/);
      expect(api.emu.counters.downloads).toBe(1);
    },
  );

  it("rejects bytes that do not decode as an image", async () => {
    const { url, taskId } = await resultUrl("corrupt bytes");
    api.emu.inject({ phase: "download", fault: { type: "corrupt" } });
    const error = await rejection(api.client.download(url, { taskId }));
    expect(error.code).toBe("GROK_DOWNLOAD_REJECTED");
    expect(error.taskId).toBe(taskId);
  });

  it.each([true, false])(
    "enforces the size limit while streaming (Content-Length declared: %s)",
    async (declareLength) => {
      const { url, taskId } = await resultUrl(`huge ${declareLength}`);
      api.emu.inject({
        phase: "download",
        fault: { type: "oversized", bytes: 4 * 1024 * 1024, declareLength },
      });
      const error = await rejection(api.client.download(url, { taskId, maxBytes: 1024 * 1024 }));
      expect(error.code).toBe("GROK_DOWNLOAD_REJECTED");
      expect(error.message).toContain("1048576-byte limit");
      expect(api.emu.counters.downloads).toBe(1);
    },
  );

  it("refuses a non-http result URL", async () => {
    const error = await rejection(api.client.download("file:///etc/passwd"));
    expect(error.code).toBe("GROK_DOWNLOAD_REJECTED");
  });
});

describe("download hosts", () => {
  let host: Server;
  let hostUrl: string;
  /** Where the second redirect of `/a` points: an image path on the emulator's CDN. */
  let imagePath = "/nowhere";
  const seen: { path: string; authorization: string | undefined; cookie: string | undefined }[] = [];

  beforeAll(async () => {
    // A host that redirects twice before the CDN serves, loops on /loop, and serves an HTML page elsewhere.
    host = createServer((req, res) => {
      seen.push({
        path: req.url ?? "",
        authorization: req.headers.authorization,
        cookie: req.headers.cookie,
      });
      if (req.url === "/a") return res.writeHead(302, { location: "/b" }).end();
      if (req.url === "/b") return res.writeHead(301, { location: `${api.emu.cdnUrl}${imagePath}` }).end();
      if (req.url === "/loop") return res.writeHead(302, { location: "/loop" }).end();
      res.writeHead(200, { "content-type": "text/html" }).end("<html><body>Sign in</body></html>");
    });
    await new Promise<void>((resolve) => host.listen(0, "127.0.0.1", resolve));
    hostUrl = `http://127.0.0.1:${(host.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    host.closeAllConnections();
    await new Promise<void>((resolve) => host.close(() => resolve()));
  });

  it("follows a few redirects without credentials, and stops at a redirect loop", async () => {
    const { url, taskId } = await resultUrl("redirected");
    imagePath = new URL(url).pathname;
    const bytes = await api.client.download(`${hostUrl}/a`, { taskId });
    expect(bytes.length).toBeGreaterThan(0);
    expect(seen.map((s) => s.path)).toEqual(["/a", "/b"]);
    expect(seen.every((s) => s.authorization === undefined && s.cookie === undefined)).toBe(true);
    expect(api.emu.counters.cdnAuthorizationHeaders).toBe(0);

    const loop = await rejection(api.client.download(`${hostUrl}/loop`, { taskId }));
    expect(loop.taskId).toBe(taskId);
    expect(loop.message).toContain("/loop");
    expect(loop.code).toBe("GROK_DOWNLOAD_REJECTED");
    expect(loop.message).toMatch(/redirect/i);
  });

  it("rejects an HTML page served with 200", async () => {
    const error = await rejection(api.client.download(`${hostUrl}/login`));
    expect(error.code).toBe("GROK_DOWNLOAD_REJECTED");
    expect(error.message).toContain("/login");
  });
});
