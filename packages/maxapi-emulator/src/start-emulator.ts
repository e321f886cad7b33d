import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createApiHandler } from "./api-server.js";
import { createCdnHandler } from "./cdn-server.js";
import { charge, createCounters, resetCounters } from "./counters.js";
import type { EmulatorContext } from "./emulator-context.js";
import { FaultRegistry } from "./faults.js";
import { resolveOptions } from "./resolve-options.js";
import { type Task, TaskStore, taskData } from "./task-store.js";
import { createTimestamper } from "./timestamp.js";
import type { Emulator, EmulatorOptions } from "./types.js";
import { WebhookSender } from "./webhook.js";

/** Starts the API server and its CDN on two ports of `host` (both 0 by default). */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const host = options.host ?? "127.0.0.1";
  const now = options.now ?? Date.now;
  const counters = createCounters();
  const faults = new FaultRegistry();
  const installFaults = () => {
    faults.clear();
    for (const rule of options.faults ?? []) faults.add(rule);
  };
  installFaults();
  const webhooks = new WebhookSender();
  const ctx: EmulatorContext = {
    options: resolveOptions(options),
    counters,
    faults,
    tasks: new TaskStore({ now, timestamp: createTimestamper(now), onTerminal: (task) => onTerminal(task) }),
    timers: new Set(),
    now,
    cdnUrl: "",
  };

  function onTerminal(task: Task): void {
    if (task.status === "SUCCESS") charge(counters, task.model, task.n);
    if (task.callBackUrl === undefined) return;
    if (!task.deliverWebhook) {
      counters.webhooksSkipped += 1;
      return;
    }
    counters.webhooksSent += 1;
    const payload = { code: 0, msg: "ok", data: taskData(task, ctx.cdnUrl) };
    void webhooks.send(task.callBackUrl, payload, ctx.options.webhookTimeoutMs).then((ok) => {
      if (!ok) counters.webhooksFailed += 1;
    });
  }

  const cdn = createCdnHandler(ctx);
  const api = await listen(createApiHandler(ctx), options.port ?? 0, host);
  const cdnServer = await listen(cdn.handler, options.cdnPort ?? 0, host).catch(async (error: unknown) => {
    await closeServer(api);
    throw error;
  });
  const url = baseUrl(api, host);
  ctx.cdnUrl = baseUrl(cdnServer, host);

  let closed: Promise<void> | undefined;
  return {
    url,
    cdnUrl: ctx.cdnUrl,
    counters,
    inject: (rule) => faults.add(rule),
    clearFaults: () => faults.clear(),
    reset() {
      resetCounters(counters);
      ctx.tasks.clear();
      cdn.clearCache();
      installFaults();
    },
    configure(patch) {
      ctx.options = resolveOptions(patch, ctx.options);
    },
    getTask(taskId) {
      const task = ctx.tasks.get(taskId);
      return task && taskData(task, ctx.cdnUrl);
    },
    close() {
      closed ??= (async () => {
        ctx.tasks.clear();
        for (const timer of ctx.timers) clearTimeout(timer);
        ctx.timers.clear();
        webhooks.close();
        await Promise.all([closeServer(api), closeServer(cdnServer)]);
      })();
      return closed;
    },
  };
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

async function listen(handler: Handler, port: number, host: string): Promise<Server> {
  const server = createServer((req, res) => {
    handler(req, res).catch(() => {
      // A handler bug must not take the emulator down; the client sees a 500 like from any broken server.
      if (!res.headersSent) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end('{"code":500,"msg":"internal error"}');
      } else req.socket.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return server;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function baseUrl(server: Server, host: string): string {
  const { port } = server.address() as AddressInfo;
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}
