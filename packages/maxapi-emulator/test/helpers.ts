import { once } from "node:events";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeEach } from "vitest";
import { type Emulator, type EmulatorOptions, startEmulator, type TaskData } from "../src/index.js";

export const LITE = "grok-imagine/text-to-image-lite";
export const STANDARD = "grok-imagine/text-to-image-standard";
export const PRO = "grok-imagine/text-to-image-pro";
export const AUTH = { authorization: "Bearer test-key" };

/**
 * Starts one emulator for a whole test file (`const emulator = await startSharedEmulator(...)` at top level), closes
 * it after the file, and before each test resets it, then runs `beforeEachTest` to undo what earlier tests changed.
 */
export async function startSharedEmulator(
  options: EmulatorOptions,
  beforeEachTest?: (emulator: Emulator) => void,
): Promise<Emulator> {
  const emulator = await startEmulator(options);
  afterAll(() => emulator.close());
  beforeEach(() => {
    emulator.reset();
    beforeEachTest?.(emulator);
  });
  return emulator;
}

export interface Reply {
  status: number;
  headers: Headers;
  body: { code: number; msg: string; data?: unknown };
}

export async function call(emulator: Emulator, path: string, init: RequestInit = {}): Promise<Reply> {
  const res = await fetch(`${emulator.url}${path}`, { ...init, headers: { ...AUTH, ...init.headers } });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Reply["body"] };
}

export function submit(
  emulator: Emulator,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  return call(emulator, "/api/v1/task/submit", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

/** Submits and returns the task id, failing loudly if the submit was refused. */
export async function submitOk(
  emulator: Emulator,
  input: Record<string, unknown>,
  model = LITE,
): Promise<string> {
  const reply = await submit(emulator, { model, input });
  if (reply.status !== 200) throw new Error(`submit refused: ${reply.status} ${JSON.stringify(reply.body)}`);
  return (reply.body.data as { taskId: string }).taskId;
}

export async function query(emulator: Emulator, taskId: string): Promise<TaskData> {
  const reply = await call(emulator, `/api/v1/task/${taskId}`);
  if (reply.status !== 200) throw new Error(`query refused: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body.data as TaskData;
}

const TERMINAL = new Set(["SUCCESS", "FAILURE", "TIMEOUT", "CANCELLED"]);

/** Polls until the task is terminal; returns every status seen, in order, and the final data. */
export async function settle(
  emulator: Emulator,
  taskId: string,
): Promise<{ seen: string[]; data: TaskData }> {
  const seen: string[] = [];
  for (;;) {
    const data = await query(emulator, taskId);
    if (seen.at(-1) !== data.status) seen.push(data.status);
    if (TERMINAL.has(data.status)) return { seen, data };
    await sleep(5);
  }
}

export async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await sleep(5);
}

export interface Receiver {
  url: string;
  bodies: unknown[];
  requests: IncomingMessage[];
  close(): Promise<void>;
}

/** A local webhook receiver answering `status` to every POST. */
export async function startReceiver(status = 200): Promise<Receiver> {
  const bodies: unknown[] = [];
  const requests: IncomingMessage[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    requests.push(req);
    bodies.push(JSON.parse(Buffer.concat(chunks).toString("utf8")));
    res.writeHead(status).end();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    bodies,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
