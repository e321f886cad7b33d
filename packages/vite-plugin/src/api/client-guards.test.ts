import type { LookupFunction } from "node:net";
import { Agent } from "undici";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../../maxapi-emulator/src/index.js";
import { formatError } from "../errors.js";
import { generation, rejection } from "./__test__/support.js";
import { type ApiContext, callApi } from "./http.js";
import { createMaxApiClient } from "./maxapi-client.js";

/*
 * What the client refuses or warns about before the key leaves this machine: a malformed key (nothing is sent), a
 * plain-http origin on another host (said once), and a short key that must not be cut out of other words.
 */

const KEY = "sk-guards-test-2b7e91";
let emu: Emulator;

beforeAll(async () => {
  emu = await startEmulator({ apiKeys: [KEY, "k"], latencyMs: 20, imageScale: 0.25 });
});
afterAll(async () => {
  await emu?.close();
});
beforeEach(() => emu.reset());

/** Resolves every host name to the emulator's address, so a non-local `http://` origin reaches it for real. */
const toEmulator: LookupFunction = (_hostname, options, callback) => {
  if (options.all) callback(null, [{ address: "127.0.0.1", family: 4 }]);
  else callback(null, "127.0.0.1", 4);
};

describe("a plain-http baseUrl on another host", () => {
  it("is warned about once per origin, and still works", async () => {
    const warnings: string[] = [];
    const dispatcher = new Agent({ connect: { lookup: toEmulator } });
    const { port } = new URL(emu.url);
    const baseUrl = `http://maxapi.internal.test:${port}`;
    const client = createMaxApiClient({
      apiKey: KEY,
      baseUrl,
      dispatcher,
      onWarning: (message) => warnings.push(message),
    });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`baseUrl http://maxapi.internal.test:${port}`);
    expect(warnings[0]).toContain("unencrypted");
    expect(warnings[0]).toContain("https://");
    expect(warnings[0]).not.toContain(KEY);
    const { taskId } = await client.submit(generation("a lamp over the sea"));
    expect(taskId).toEqual(expect.any(String));
    expect(emu.counters.submits).toBe(1);

    // A second client of the same build (another environment) says nothing more.
    createMaxApiClient({
      apiKey: KEY,
      baseUrl: `${baseUrl}/`,
      dispatcher,
      onWarning: (m) => warnings.push(m),
    });
    expect(warnings).toHaveLength(1);
    await dispatcher.close();
  });

  it("goes to process warnings when no callback is given", async () => {
    const seen = new Promise<Error & { code?: string }>((resolve) => process.once("warning", resolve));
    createMaxApiClient({ apiKey: KEY, baseUrl: "http://203.0.113.9:8080" });
    const warning = await seen;
    expect(warning.code).toBe("GROK_INSECURE_BASE_URL");
    expect(warning.message).toContain("203.0.113.9");
  });

  it.each([
    "http://127.0.0.1:4010",
    "http://127.1.2.3:4010",
    "http://localhost:4010",
    "http://LOCALHOST.:4010",
    "http://emulator.localhost:4010",
    "http://[::1]:4010",
    "https://api.maxapi.io",
  ])("%s is not warned about", (baseUrl) => {
    const warnings: string[] = [];
    createMaxApiClient({ apiKey: KEY, baseUrl, onWarning: (message) => warnings.push(message) });
    expect(warnings).toEqual([]);
  });
});

describe("a malformed key", () => {
  it.each([
    ["sk-guards\nsk-other", "line break"],
    ["sk guards", "a space"],
    ["sk-\u0000", "U+0000"],
  ])("%j is refused with GROK_BAD_OPTION and nothing is sent", (apiKey, problem) => {
    let error: unknown;
    try {
      createMaxApiClient({ apiKey, baseUrl: emu.url });
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: "GROK_BAD_OPTION" });
    const text = formatError(error as never);
    expect(text).toContain(problem);
    expect(text).toContain("nothing was sent");
    expect(text).not.toContain("charged");
    expect(text).not.toContain("guards");
    expect(emu.counters.submits).toBe(0);
  });

  it("that reaches the HTTP layer anyway is reported as never sent, not as possibly charged", async () => {
    const dispatcher = new Agent();
    const ctx: ApiContext = {
      dispatcher,
      baseUrl: new URL(`${emu.url}/`),
      apiKey: "sk-bad\nkey",
      userAgent: "grok-image/test",
      headersTimeoutMs: 5000,
      bodyTimeoutMs: 5000,
      minRetryDelayMs: 1,
      maxRetryDelayMs: 2,
      onRetry: undefined,
    };
    const error = await rejection(
      callApi(ctx, {
        phase: "submit",
        method: "POST",
        path: "/api/v1/task/submit",
        body: { model: "grok-imagine/text-to-image-lite", input: { prompt: "x", n: 1 } },
        retries: 2,
      }),
    );
    expect(error.code).toBe("GROK_BAD_OPTION");
    expect(error.message).toContain("was not sent");
    expect(`${error.message} ${error.hint}`).not.toMatch(/may have been charged|may have created/);
    expect(emu.counters.submits).toBe(0);
    await dispatcher.close();
  });
});

describe("a short key", () => {
  it("is redacted where the server echoes it, and never cut out of other words", async () => {
    const client = createMaxApiClient({ apiKey: "k", baseUrl: emu.url, minRetryDelayMs: 1, retries: 0 });
    emu.inject({
      phase: "submit",
      times: 1,
      fault: { type: "http", status: 500, msg: "token k rejected by grok-image backend" },
    });
    const error = await rejection(client.submit(generation("a kettle on a stove")));
    const text = formatError(error);
    expect(text).toContain("token [redacted] rejected by grok-image backend");
    expect(text).toContain("a kettle on a stove");
    expect(text).not.toMatch(/gro\[redacted\]|\[redacted\]ettle/);
    await client.close();
  });
});
