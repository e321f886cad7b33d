// Summarizes a V8 CPU profile (`node --cpu-prof`): self time by package (or by runtime activity: GC, idle,
// compilation), and the plugin's own time by file and function, so a results file can say where a build's time goes.
import { readFile } from "node:fs/promises";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** Wall time the profile covers. */
  totalMs: number;
  /** Of it, the main thread waiting (`(idle)`): on I/O, or on the bundler's native threads. */
  idleMs: number;
  /** Self time by where the code comes from: a package name, `node` internals, or a V8 activity in parentheses. */
  buckets: { name: string; ms: number }[];
  /** Self time of the grok-image plugin's own functions (`file:function:line`), largest first. */
  plugin: { name: string; ms: number }[];
  /** Time of samples with a grok-image frame anywhere on their stack (what the plugin's calls cost in all). */
  pluginInclusiveMs: number;
}

const PLUGIN_DIST = "/packages/vite-plugin/dist/";

/** The package a script belongs to, from its URL; the plugin's own files are `vite-plugin-grok-image`. */
export function bucketOf(url: string, functionName: string): string {
  if (url === "") return functionName.startsWith("(") ? functionName : "(native)";
  if (url.startsWith("node:")) return "node";
  const path = decodeURIComponent(url.replace(/^file:\/\//, ""));
  if (path.includes(PLUGIN_DIST)) return "vite-plugin-grok-image";
  if (path.includes("/packages/astro-integration/dist/")) return "astro-grok-image";
  const at = path.lastIndexOf("/node_modules/");
  if (at >= 0) {
    const parts = path.slice(at + "/node_modules/".length).split("/");
    return parts[0]?.startsWith("@") ? `${parts[0]}/${parts[1]}` : (parts[0] ?? "other");
  }
  // Astro writes the built server entry and its chunks to the project (dist/, .astro/): the site's own code.
  return "(site code)";
}

/** The plugin's and the integration's own scripts. */
function isOurs(url: string): boolean {
  return url.includes(PLUGIN_DIST) || url.includes("/packages/astro-integration/dist/");
}

function top(map: Map<string, number>, count: number): { name: string; ms: number }[] {
  return [...map]
    .map(([name, us]) => ({ name, ms: us / 1000 }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, count);
}

export async function summarizeProfile(file: string, count = 12): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  // timeDeltas[i + 1] is the time from sample i to the next one: the time spent where sample i was taken.
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number;
    const delta = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  }
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const underPlugin = new Map<number, boolean>();
  const isUnderPlugin = (id: number): boolean => {
    const known = underPlugin.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id);
    const up = parent.get(id);
    const result =
      (node !== undefined && isOurs(node.callFrame.url)) || (up !== undefined && isUnderPlugin(up));
    underPlugin.set(id, result);
    return result;
  };
  const buckets = new Map<string, number>();
  const plugin = new Map<string, number>();
  let pluginInclusiveUs = 0;
  for (const [id, us] of selfUs) {
    if (isUnderPlugin(id)) pluginInclusiveUs += us;
    const node = byId.get(id);
    if (!node) continue;
    const { url, functionName, lineNumber } = node.callFrame;
    const bucket = bucketOf(url, functionName);
    buckets.set(bucket, (buckets.get(bucket) ?? 0) + us);
    if (bucket === "vite-plugin-grok-image") {
      const path = decodeURIComponent(url).split(PLUGIN_DIST)[1] ?? url;
      const name = `${path}:${functionName || "(anonymous)"}:${lineNumber + 1}`;
      plugin.set(name, (plugin.get(name) ?? 0) + us);
    }
  }
  return {
    totalMs: (profile.endTime - profile.startTime) / 1000,
    idleMs: (buckets.get("(idle)") ?? 0) / 1000,
    buckets: top(buckets, count),
    plugin: top(plugin, count),
    pluginInclusiveMs: pluginInclusiveUs / 1000,
  };
}

/**
 * The mean of several profiles of the same build: one profile is as noisy as one run. Buckets and functions are
 * averaged over all profiles (absent counts as 0), then the largest `count` kept.
 */
export function meanProfile(summaries: readonly ProfileSummary[], count = 12): ProfileSummary {
  const n = summaries.length;
  const mean = (pick: (s: ProfileSummary) => number) => summaries.reduce((sum, s) => sum + pick(s), 0) / n;
  const meanOf = (pick: (s: ProfileSummary) => readonly { name: string; ms: number }[]) => {
    const sums = new Map<string, number>();
    for (const s of summaries) for (const { name, ms } of pick(s)) sums.set(name, (sums.get(name) ?? 0) + ms);
    return [...sums]
      .map(([name, ms]) => ({ name, ms: ms / n }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, count);
  };
  return {
    totalMs: mean((s) => s.totalMs),
    idleMs: mean((s) => s.idleMs),
    buckets: meanOf((s) => s.buckets),
    plugin: meanOf((s) => s.plugin),
    pluginInclusiveMs: mean((s) => s.pluginInclusiveMs),
  };
}

// `node bench/cpu-profile.ts <file.cpuprofile>`: print the summary.
if (import.meta.main) {
  const file = process.argv[2];
  if (!file) throw new TypeError("usage: node bench/cpu-profile.ts <file.cpuprofile>");
  process.stdout.write(`${JSON.stringify(await summarizeProfile(file), null, 2)}\n`);
}
