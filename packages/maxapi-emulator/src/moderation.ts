import type { ModerationCategory } from "./types.js";

/** In the documented order (MAXAPI.md §3). */
export const MODERATION_CATEGORIES: readonly ModerationCategory[] = [
  "harassment",
  "harassment/threatening",
  "sexual",
  "hate",
  "hate/threatening",
  "illicit",
  "illicit/violent",
  "self-harm/intent",
  "self-harm/instructions",
  "self-harm",
  "sexual/minors",
  "violence",
  "violence/graphic",
];

/** The exact moderation 400 body; every category is present as a boolean. */
export function moderationBody(flagged: readonly ModerationCategory[] = ["sexual"]) {
  const categories = Object.fromEntries(MODERATION_CATEGORIES.map((c) => [c, flagged.includes(c)]));
  return { code: 400, msg: "content rejected by moderation", data: { flagged: true, categories } };
}
