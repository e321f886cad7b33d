import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../src/index.js";
import { call, LITE, type Receiver, settle, startReceiver, submit, submitOk, waitUntil } from "./helpers.js";

let receiver: Receiver;
let emulators: Emulator[] = [];
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(() => receiver.close());
afterEach(async () => {
  await Promise.all(emulators.map((e) => e.close()));
  emulators = [];
  receiver.bodies.length = 0;
  receiver.requests.length = 0;
});

async function start(options: Parameters<typeof startEmulator>[0]): Promise<Emulator> {
  const emulator = await startEmulator({ latencyMs: 15, imageScale: 0.1, ...options });
  emulators.push(emulator);
  return emulator;
}

describe("webhooks", () => {
  it("POST the query data once on SUCCESS when private callbacks are allowed", async () => {
    const emulator = await start({ allowPrivateCallbacks: true });
    const reply = await submit(emulator, {
      model: LITE,
      input: { prompt: "hooked" },
      callBackUrl: receiver.url,
    });
    const taskId = (reply.body.data as { taskId: string }).taskId;
    const { data } = await settle(emulator, taskId);
    await waitUntil(() => receiver.bodies.length === 1);
    expect(receiver.bodies[0]).toEqual({ code: 0, msg: "ok", data });
    expect(receiver.requests[0]?.method).toBe("POST");
    expect(receiver.requests[0]?.headers["content-type"]).toBe("application/json");
    expect(receiver.requests[0]?.headers.authorization).toBeUndefined();
    expect(emulator.counters.webhooksSent).toBe(1);
  });

  it("fire on CANCELLED and on FAILURE with code 0 outside", async () => {
    const emulator = await start({ allowPrivateCallbacks: true, latencyMs: 5_000 });
    const reply = await submit(emulator, {
      model: LITE,
      input: { prompt: "cancel me" },
      callBackUrl: receiver.url,
    });
    const taskId = (reply.body.data as { taskId: string }).taskId;
    await call(emulator, `/api/v1/task/${taskId}/cancel`, { method: "POST" });
    emulator.configure({ latencyMs: 15 });
    emulator.inject({ phase: "submit", fault: { type: "outcome", status: "FAILURE", failureReason: null } });
    await submit(emulator, { model: LITE, input: { prompt: "fail me" }, callBackUrl: receiver.url });
    await waitUntil(() => receiver.bodies.length === 2);
    const statuses = receiver.bodies.map(
      (b) => (b as { code: number; data: { status: string } }).data.status,
    );
    expect(statuses.sort()).toEqual(["CANCELLED", "FAILURE"]);
    expect(receiver.bodies.every((b) => (b as { code: number }).code === 0)).toBe(true);
  });

  it("reject a localhost callBackUrl at submit by default", async () => {
    const emulator = await start({});
    for (const callBackUrl of [
      receiver.url,
      "http://localhost:9/x",
      "http://10.1.2.3/x",
      "http://[::1]:9/x",
    ]) {
      const reply = await submit(emulator, { model: LITE, input: { prompt: "x" }, callBackUrl });
      expect(reply.status).toBe(400);
      expect(reply.body).toEqual({ code: 400, msg: expect.stringContaining("callBackUrl") });
    }
    expect(emulator.counters.tasksCreated).toBe(0);
  });

  it("skip a private callBackUrl silently when the policy is skip", async () => {
    const emulator = await start({ privateCallbacks: "skip" });
    const reply = await submit(emulator, { model: LITE, input: { prompt: "x" }, callBackUrl: receiver.url });
    await settle(emulator, (reply.body.data as { taskId: string }).taskId);
    expect(emulator.counters).toMatchObject({ webhooksSkipped: 1, webhooksSent: 0 });
    expect(receiver.bodies).toHaveLength(0);
  });

  it("are not retried when the receiver fails", async () => {
    const failing = await startReceiver(500);
    try {
      const emulator = await start({ allowPrivateCallbacks: true });
      const reply = await submit(emulator, { model: LITE, input: { prompt: "x" }, callBackUrl: failing.url });
      await settle(emulator, (reply.body.data as { taskId: string }).taskId);
      await waitUntil(() => emulator.counters.webhooksFailed === 1);
      // A later task proves the emulator moved on; the failed delivery was attempted exactly once.
      await settle(emulator, await submitOk(emulator, { prompt: "later" }));
      expect(failing.bodies).toHaveLength(1);
      expect(emulator.counters.webhooksSent).toBe(1);
    } finally {
      await failing.close();
    }
  });
});
