import type { GrokModel } from "./types.js";

export interface Size {
  width: number;
  height: number;
}

const LANDSCAPE_WORDS =
  /\b(landscape|wide|widescreen|panorama|panoramic|banner|horizontal|cinematic|16:9)\b/i;
const PORTRAIT_WORDS = /\b(portrait|tall|vertical|poster|9:16)\b/i;

/**
 * Output dimensions before scaling. Lite infers the shape from the prompt, as MAXAPI.md §10.1 describes ("wide
 * landscape" gives landscape); standard and pro follow `ratio` and `resolution`, falling back to the same inference.
 */
export function imageSize(model: GrokModel, prompt: string, ratio?: string, resolution?: string): Size {
  const shape =
    model.endsWith("-lite") || ratio === undefined ? shapeFromPrompt(prompt) : shapeFromRatio(ratio);
  const short = resolution === "1080p" ? 1080 : resolution === "720p" ? 720 : undefined;
  if (shape === "square")
    return short === undefined ? { width: 1024, height: 1024 } : { width: short, height: short };
  const base = short ?? 720;
  const long = Math.round((base * 16) / 9);
  return shape === "landscape" ? { width: long, height: base } : { width: base, height: long };
}

type Shape = "landscape" | "portrait" | "square";

function shapeFromPrompt(prompt: string): Shape {
  // The earlier word wins: "tall tower under a wide sky" is about the tower.
  const landscape = prompt.search(LANDSCAPE_WORDS);
  const portrait = prompt.search(PORTRAIT_WORDS);
  if (landscape === -1 && portrait === -1) return "square";
  if (portrait === -1) return "landscape";
  if (landscape === -1) return "portrait";
  return landscape < portrait ? "landscape" : "portrait";
}

function shapeFromRatio(ratio: string): Shape {
  if (ratio === "16:9") return "landscape";
  if (ratio === "9:16") return "portrait";
  return "square";
}

export function scaleSize(size: Size, scale: number): Size {
  return {
    width: Math.max(16, Math.round(size.width * scale)),
    height: Math.max(16, Math.round(size.height * scale)),
  };
}
