import type { IncomingMessage, ServerResponse } from "node:http";
import { countKey } from "./counters.js";
import type { EmulatorContext } from "./emulator-context.js";
import { applyTransportFault, dropConnection, readJson, sendError, sendJson } from "./http-util.js";
import { moderationBody } from "./moderation.js";
import { type TaskOutcome, taskData } from "./task-store.js";
import { validateSubmit } from "./validate-submit.js";
import { isPrivateUrl } from "./webhook.js";

const TASK_PATH = /^\/api\/v1\/task\/([^/]+)(\/cancel)?\/?$/;

/** The MaxAPI task endpoints (MAXAPI.md §2). */
export function createApiHandler(ctx: EmulatorContext) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? "/", "http://emulator").pathname;
    if (!path.startsWith("/api/v1/")) return sendError(res, 404, "not found");
    if (path === "/api/v1/task/submit" && req.method === "POST") ctx.counters.submits += 1;
    if (!authorized(req, ctx.options.apiKeys)) return sendError(res, 401, "unauthorized");
    if (path === "/api/v1/task/submit") {
      return req.method === "POST" ? submit(ctx, req, res) : sendError(res, 405, "method not allowed");
    }
    const match = TASK_PATH.exec(path);
    if (!match?.[1]) return sendError(res, 404, "not found");
    const taskId = decodeURIComponent(match[1]);
    if (match[2])
      return req.method === "POST" ? cancel(ctx, taskId, res) : sendError(res, 405, "method not allowed");
    return req.method === "GET" ? query(ctx, taskId, req, res) : sendError(res, 405, "method not allowed");
  };
}

function authorized(req: IncomingMessage, apiKeys: readonly string[] | undefined): boolean {
  const token = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? "")?.[1];
  if (!token) return false;
  return apiKeys === undefined || apiKeys.includes(token);
}

async function submit(ctx: EmulatorContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readJson(req);
  if (!body.ok) return sendError(res, 400, body.msg);
  const prompt = promptOf(body.value);
  if (prompt !== undefined) countKey(ctx.counters.submitsByPrompt, prompt);
  // Checked before any fault rule is spent (a throttled submit goes no further), and again after a delay fault.
  if (throttled(ctx, res)) return;
  const fault = ctx.faults.take("submit", prompt);
  if (await applyTransportFault(fault, req, res, ctx.timers)) return;
  if (fault?.type === "delay" && throttled(ctx, res)) return;

  const check = validateSubmit(body.value);
  if (!check.ok) return sendError(res, 400, check.msg);
  const { options } = ctx;
  const { request } = check;
  if (check.invalidParameter !== undefined && options.invalidParameters === "reject") {
    return sendError(res, 400, check.invalidParameter);
  }
  let deliverWebhook = request.callBackUrl !== undefined;
  if (
    request.callBackUrl !== undefined &&
    !options.allowPrivateCallbacks &&
    isPrivateUrl(request.callBackUrl)
  ) {
    if (options.privateCallbacks === "reject") {
      return sendError(res, 400, "callBackUrl must not point to localhost or a private address");
    }
    deliverWebhook = false;
  }
  if (fault?.type === "moderation") {
    ctx.counters.moderated += 1;
    return sendJson(res, 400, moderationBody(fault.categories));
  }

  let outcome: TaskOutcome = { status: "SUCCESS", failureReason: null };
  if (fault?.type === "outcome")
    outcome = { status: fault.status, failureReason: fault.failureReason ?? null };
  if (check.invalidParameter !== undefined)
    outcome = { status: "FAILURE", failureReason: "INVALID_PARAMETERS" };
  // A real model draws a fresh image for every task, even for a prompt it has seen (a `v=2` variant). The nth
  // task of one model + prompt gets its own seed, so runs stay reproducible while repeats differ.
  const earlier = ctx.tasks.count((t) => t.model === request.model && t.prompt === request.prompt);
  const task = ctx.tasks.create({
    ...request,
    deliverWebhook,
    latencyMs: fault?.type === "latency" ? fault.ms : options.latencyMs,
    outcome,
    seed: earlier === 0 ? options.seed : `${options.seed}#${earlier}`,
    imageScale: options.imageScale,
  });
  ctx.counters.tasksCreated += 1;
  ctx.counters.peakTasksInFlight = Math.max(ctx.counters.peakTasksInFlight, ctx.tasks.running);
  if (fault?.type === "accept-then-drop") return dropConnection(req);
  sendJson(res, 200, { code: 0, msg: "ok", data: { taskId: task.id } });
}

/** Answers 429 when `maxTasksInFlight` tasks are running: no task is created, nothing is charged. */
function throttled(ctx: EmulatorContext, res: ServerResponse): boolean {
  if (ctx.tasks.running < ctx.options.maxTasksInFlight) return false;
  ctx.counters.throttled += 1;
  sendError(res, 429, "too many tasks in flight", { "retry-after": String(ctx.options.inFlightRetryAfter) });
  return true;
}

function promptOf(body: unknown): string | undefined {
  const input = (body as { input?: { prompt?: unknown } } | null)?.input;
  return typeof input?.prompt === "string" ? input.prompt : undefined;
}

async function query(ctx: EmulatorContext, taskId: string, req: IncomingMessage, res: ServerResponse) {
  ctx.counters.queries += 1;
  countKey(ctx.counters.queriesByTask, taskId);
  const task = ctx.tasks.get(taskId);
  if (await applyTransportFault(ctx.faults.take("query", task?.prompt), req, res, ctx.timers)) return;
  // Looked up again: a delay fault may have outlasted a reset().
  const current = ctx.tasks.get(taskId);
  if (!current) return sendError(res, 404, "task not found");
  sendJson(res, 200, { code: 0, msg: "ok", data: taskData(current, ctx.cdnUrl) });
}

function cancel(ctx: EmulatorContext, taskId: string, res: ServerResponse): void {
  ctx.counters.cancels += 1;
  const task = ctx.tasks.get(taskId);
  if (!task) {
    sendError(res, 404, "task not found");
    return;
  }
  const refusal = ctx.tasks.cancel(task, ctx.options.cancellable);
  if (refusal !== undefined) {
    sendError(res, 400, refusal);
    return;
  }
  ctx.counters.cancelled += 1;
  sendJson(res, 200, { code: 0, msg: "ok" });
}
