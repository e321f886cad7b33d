import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { checkRule } from "./faults.js";
import type { FaultRule } from "./types.js";

/**
 * Reads fault rules from a file, so a prompt can carry faults without code (CLI `--faults`, CI). A `.json` file
 * holds an array of rules (or `{ "faults": [...] }`), where a `prompt` written as `"/pattern/flags"` is a RegExp;
 * a `.js`/`.mjs` file default-exports the same.
 *
 * @example [{ "phase": "submit", "prompt": "nsfw", "fault": { "type": "moderation" } }]
 */
export async function loadFaults(file: string): Promise<FaultRule[]> {
  const path = resolve(file);
  const loaded: unknown = /\.json$/i.test(path)
    ? JSON.parse(await readFile(path, "utf8"))
    : ((await import(pathToFileURL(path).href)) as { default?: unknown }).default;
  const list = Array.isArray(loaded) ? loaded : (loaded as { faults?: unknown } | undefined)?.faults;
  if (!Array.isArray(list))
    throw new TypeError(`${file}: expected an array of fault rules or { "faults": [...] }`);
  return list.map((raw: FaultRule) => {
    const rule = { ...raw, prompt: toPattern(raw.prompt) };
    checkRule(rule);
    return rule;
  });
}

function toPattern(prompt: FaultRule["prompt"]): FaultRule["prompt"] {
  if (typeof prompt !== "string") return prompt;
  const regex = /^\/(.+)\/([dgimsuy]*)$/s.exec(prompt);
  return regex?.[1] ? new RegExp(regex[1], regex[2]) : prompt;
}
