import type { TaskRequest } from "./task-store.js";
import type { GrokModel } from "./types.js";

const MAX_N: Readonly<Record<GrokModel, number>> = {
  "grok-imagine/text-to-image-lite": 4,
  "grok-imagine/text-to-image-standard": 10,
  "grok-imagine/text-to-image-pro": 10,
};
const RATIOS = new Set(["1:1", "16:9", "9:16"]);
const RESOLUTIONS = new Set(["720p", "1080p"]);

/** A submit body that passed the structural checks. */
export interface ValidSubmit {
  ok: true;
  request: TaskRequest;
  /** A per-model parameter problem; whether it is a 400 or a FAILURE is the server's `invalidParameters` choice. */
  invalidParameter: string | undefined;
}

export interface InvalidSubmit {
  ok: false;
  msg: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isModel(value: string): value is GrokModel {
  return Object.hasOwn(MAX_N, value);
}

/** Checks a parsed submit body against MAXAPI.md §3 and §10.1. */
export function validateSubmit(body: unknown): ValidSubmit | InvalidSubmit {
  if (!isRecord(body)) return { ok: false, msg: "request body must be a JSON object" };
  const { model, input, callBackUrl, user_id: userId } = body;
  if (typeof model !== "string" || model === "") return { ok: false, msg: "model is required" };
  if (!isModel(model)) return { ok: false, msg: `unsupported model: ${model}` };
  if (!isRecord(input)) return { ok: false, msg: "input is required and must be an object" };
  const { prompt } = input;
  if (typeof prompt !== "string" || prompt.trim() === "")
    return { ok: false, msg: "input.prompt is required" };
  if (callBackUrl !== undefined && !isHttpUrl(callBackUrl)) {
    return { ok: false, msg: "callBackUrl must be an absolute http(s) URL" };
  }
  if (userId !== undefined && typeof userId !== "string")
    return { ok: false, msg: "user_id must be a string" };

  const rawN = input.n ?? 1;
  const ratio = typeof input.ratio === "string" ? input.ratio : undefined;
  const resolution = typeof input.resolution === "string" ? input.resolution : undefined;
  const n = typeof rawN === "number" && Number.isInteger(rawN) ? rawN : Number.NaN;
  return {
    ok: true,
    request: {
      model,
      input,
      prompt,
      n: Number.isNaN(n) ? 1 : n,
      ratio,
      resolution,
      callBackUrl: callBackUrl as string | undefined,
    },
    invalidParameter: perModelProblem(model, input, n),
  };
}

function perModelProblem(model: GrokModel, input: Record<string, unknown>, n: number): string | undefined {
  const max = MAX_N[model];
  if (!(n >= 1 && n <= max)) return `input.n must be an integer from 1 to ${max} for ${model}`;
  if (model === "grok-imagine/text-to-image-lite") {
    if (input.ratio !== undefined) return `${model} does not accept input.ratio`;
    if (input.resolution !== undefined) return `${model} does not accept input.resolution`;
    return undefined;
  }
  if (input.ratio !== undefined && !RATIOS.has(input.ratio as string)) {
    return `input.ratio must be one of ${[...RATIOS].join(", ")}`;
  }
  if (input.resolution !== undefined && !RESOLUTIONS.has(input.resolution as string)) {
    return `input.resolution must be one of ${[...RESOLUTIONS].join(", ")}`;
  }
  return undefined;
}

function isHttpUrl(value: unknown): value is string {
  if (typeof value !== "string") return false;
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}
