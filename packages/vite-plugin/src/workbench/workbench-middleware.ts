import type { IncomingMessage, ServerResponse } from "node:http";
import type { Connect } from "vite";
import { browserCode } from "./browser-code.js";
import { crossOriginReason, hasToken, remoteReason, TOKEN_HEADER } from "./request-guard.js";
import { ActionError, type WorkbenchActions } from "./workbench-actions.js";
import { renderWorkbenchPage, WORKBENCH_PATH } from "./workbench-page.js";
import type { WorkbenchState } from "./workbench-state.js";

/** Bodies of actions are a few hundred bytes; anything larger is not the workbench talking. */
const MAX_BODY = 64 * 1024;

export interface WorkbenchRoutes {
  readonly token: string;
  readonly state: () => Promise<WorkbenchState>;
  readonly actions: WorkbenchActions;
  /** Says an error of the workbench itself in the dev server's log. */
  readonly onError: (error: unknown) => void;
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.statusCode = status;
  res.setHeader("Content-Type", type);
  res.setHeader("Cache-Control", "no-store");
  // Only this origin may frame it (the Astro toolbar app does): no other site can put its buttons under a click.
  res.setHeader("Content-Security-Policy", "frame-ancestors 'self'");
  res.setHeader("X-Frame-Options", "SAMEORIGIN");
  res.end(body);
}

const json = (res: ServerResponse, status: number, value: unknown) =>
  send(res, status, "application/json; charset=utf-8", JSON.stringify(value));

function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new ActionError(413, "The request body is too large."));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on("end", () => {
      try {
        const value: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        if (typeof value !== "object" || value === null || Array.isArray(value))
          throw new Error("not an object");
        resolve(value as Record<string, unknown>);
      } catch {
        reject(new ActionError(400, "The request body must be a JSON object."));
      }
    });
    req.on("error", reject);
  });
}

/**
 * The workbench at `/__grok-image/`: its page, its script, its state (`state`) and its actions (`pick`, `reroll`,
 * `retry`, POST only). Every request must come from this origin; actions must also carry the server's token.
 */
export function workbenchMiddleware(routes: WorkbenchRoutes): Connect.NextHandleFunction {
  return (req, res, next) => {
    const pathname = (req.url ?? "").split("?")[0] ?? "";
    if (pathname !== WORKBENCH_PATH.slice(0, -1) && !pathname.startsWith(WORKBENCH_PATH)) return next();
    const route = pathname.slice(WORKBENCH_PATH.length);
    const action = req.method === "POST";
    const refused = crossOriginReason(req, action) ?? (action ? remoteReason(req) : undefined);
    if (refused) {
      json(res, 403, { error: `The grok-image workbench refused this request: ${refused}.` });
      return;
    }
    void (async () => {
      try {
        if (!action) {
          if (req.method !== "GET" && req.method !== "HEAD")
            return json(res, 405, { error: "Use GET or POST." });
          if (route === "")
            return send(res, 200, "text/html; charset=utf-8", renderWorkbenchPage(routes.token));
          if (route === "app.js")
            return send(res, 200, "text/javascript; charset=utf-8", await browserCode("workbench-app"));
          if (route === "state") return json(res, 200, await routes.state());
          return json(res, 404, { error: `No workbench route ${pathname}.` });
        }
        if (!hasToken(req, routes.token)) {
          return json(res, 403, {
            error: `The grok-image workbench refused this request: it does not carry this dev server's token (${TOKEN_HEADER}). Reload the workbench.`,
          });
        }
        const handler =
          route === "pick"
            ? routes.actions.pick
            : route === "reroll"
              ? routes.actions.reroll
              : route === "retry"
                ? routes.actions.retry
                : undefined;
        if (!handler) return json(res, 404, { error: `No workbench action ${route}.` });
        json(res, 200, await handler(await readBody(req)));
      } catch (error) {
        if (error instanceof ActionError) return json(res, error.status, { error: error.message });
        routes.onError(error);
        json(res, 500, { error: error instanceof Error ? error.message : String(error) });
      }
    })();
  };
}
