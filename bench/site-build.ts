// Cached site builds: an Astro site whose N images are `grok:` directives, every one a cache hit, against the same
// site with the same N image files imported as plain local files, and that local site once more with the
// integration added (what the integration costs a site that uses no directive), and the grok site's pages as the
// plugin wrote them, replayed without the plugin (which part of the gap is the plugin's work, and which is what the
// bundler does with what it writes). The sites are written to a RAM disk when there is one (see `scratch`), built
// once each to fill the caches (the grok cache from the emulator, Astro's own image cache for all), then built in
// rotation, `runs` times each, as child processes (`astro build`), each from the same copy of Node's compile cache
// (compile-cache.ts), and compared by median wall time. With `profile`, more builds of the grok and local sites run under `node --cpu-prof`
// (alternately, `profile` of each, 5 for `true`) and the profiles are summarized and averaged (see cpu-profile.ts).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, cp, mkdir, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { forHost } from "../packages/vite-plugin/dist/vite/host-handoff.js";
import { snapshotCompileCache, withCompileCache } from "./compile-cache.ts";
import { meanProfile, type ProfileSummary, summarizeProfile } from "./cpu-profile.ts";
import { countInstructions, type InstructionCount } from "./instructions.ts";
import { pairedRatio, ratioInterval } from "./stats.ts";
import {
  API_KEY,
  config,
  directiveUses,
  eachLimit,
  emulatorProcess,
  engineFor,
  FAST_CLIENT,
  median,
  report,
} from "./support.ts";

interface SiteConfig {
  directives: number;
  /** Timed builds of each site. */
  runs: number;
  /** Also profile cached builds of each site: how many of each (`true`: 5). One profile is as noisy as one run. */
  profile?: boolean | number;
  /** Leave the sites in place (for a look at them, or `reuse`). */
  keep?: boolean;
  /** Measure the sites a kept run left in this directory instead of making new ones. */
  reuse?: string;
  /**
   * Instead of timing builds, count the instructions of this many builds of each site under callgrind
   * (instructions.ts): work that the machine's load does not move. Slow (about 30x), so run by hand, with `reuse`.
   */
  instructions?: number;
  /**
   * Also count the plugin's own build hooks on the grok site's pages, without Astro (plugin-hooks-child.mjs), this
   * many times per phase: what the plugin's loading, its plan and its transforms cost, with a tenth of a build's noise.
   */
  hooks?: number;
}

const repo = fileURLToPath(new URL("..", import.meta.url));
const ASTRO = join(repo, "test/node_modules/astro/bin/astro.mjs");
const HOOKS_CHILD = join(repo, "bench/plugin-hooks-child.mjs");
const PER_PAGE = 20;
const PROMPT = "bench site image";

const {
  directives,
  runs,
  profile = false,
  keep = false,
  reuse,
  instructions = 0,
  hooks = 0,
} = config<SiteConfig>();
/*
 * The sites live on a RAM disk when the machine has one (Linux's /dev/shm): every build writes thousands of files,
 * and a virtual machine's disk then swings the same build's time by half from one run to the next, drowning a
 * difference of a few percent. Both sites get the same disk, so the plugin's own reads and writes are still counted.
 * Elsewhere they go under `test/.tmp/`. A `node_modules` link lets Astro resolve the workspace's packages.
 */
const scratch = existsSync("/dev/shm") ? "/dev/shm" : join(repo, "test/.tmp");
const base = reuse ?? join(scratch, `grok-bench-site-${directives}-${process.pid}`);
const grokRoot = join(base, "grok");
const localRoot = join(base, "local");
/** The local site with the integration added and no directive: what the integration costs a site that uses none. */
const plainRoot = join(base, "plain");
/** The grok site's pages as the plugin wrote them, and its image files, built without the plugin (makeReplaySite). */
const replayRoot = join(base, "replay");

/** The pages of a site: `PER_PAGE` images each, every one through `<Image>` as Astro's docs recommend. */
async function writeSite(root: string, integration: boolean, source: (i: number) => string): Promise<void> {
  await mkdir(join(root, "src/pages"), { recursive: true });
  await writeFile(
    join(root, "package.json"),
    '{ "name": "bench-site", "private": true, "type": "module" }\n',
  );
  await writeFile(
    join(root, "astro.config.mjs"),
    integration
      ? 'import { defineConfig } from "astro/config";\nimport grokImage from "astro-grok-image";\n\nexport default defineConfig({ integrations: [grokImage()] });\n'
      : 'import { defineConfig } from "astro/config";\n\nexport default defineConfig({});\n',
  );
  const pages = Math.ceil(directives / PER_PAGE);
  for (let page = 0; page < pages; page++) {
    const ids = Array.from({ length: PER_PAGE }, (_, j) => page * PER_PAGE + j).filter((i) => i < directives);
    const code = [
      "---",
      'import { Image } from "astro:assets";',
      ...ids.map((i) => `import image${i} from ${JSON.stringify(source(i))};`),
      "---",
      `<html lang="en"><head><meta charset="utf-8" /><title>Page ${page}</title></head><body>`,
      ...ids.map((i) => `<Image src={image${i}} alt="image ${i}" width={128} />`),
      "</body></html>",
      "",
    ].join("\n");
    await writeFile(join(root, "src/pages", `page-${page}.astro`), code);
  }
}

interface BuildRun {
  ms: number;
  /** CPU time of the build process, every thread (user + system): steadier than wall time on a busy machine. */
  cpuMs: number;
  output: string;
}

/** Reports the process's CPU time on stderr as it exits. */
const CPU_PROBE = `data:text/javascript,${encodeURIComponent(
  'import { writeSync } from "node:fs"; process.on("exit", () => { const u = process.cpuUsage(); writeSync(2, "\\n__cpu__ " + (u.user + u.system) / 1000 + "\\n"); });',
)}`;

function astroBuild(
  root: string,
  env: NodeJS.ProcessEnv,
  nodeFlags: readonly string[] = [],
  args: readonly string[] = [],
): Promise<BuildRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [...nodeFlags, "--import", CPU_PROBE, ASTRO, "build", ...args], {
      cwd: root,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk;
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const ms = performance.now() - started;
      const cpuMs = Number(/__cpu__ ([\d.]+)/.exec(output)?.[1] ?? Number.NaN);
      if (code === 0) resolve({ ms, cpuMs, output });
      else reject(new Error(`astro build in ${root} exited with ${code}:\n${output.slice(-3000)}`));
    });
  });
}

function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith("VITEST") && key !== "NODE_ENV" && key !== "CI" && !key.startsWith("GROK_IMAGE_"))
      env[key] = value;
  }
  return { ...env, ASTRO_TELEMETRY_DISABLED: "1", NO_COLOR: "1", FORCE_COLOR: "0", ...extra };
}

async function profiled(root: string, env: NodeJS.ProcessEnv, dir: string): Promise<ProfileSummary> {
  await rm(dir, { recursive: true, force: true });
  await astroBuild(root, env, ["--cpu-prof", `--cpu-prof-dir=${dir}`]);
  const files = (await readdir(dir)).filter((f) => f.endsWith(".cpuprofile"));
  // The build runs in the main thread; a worker's profile, if any, is the smaller one.
  // Every bucket of each, so the mean of several profiles does not count a bucket left off one as zero.
  const summaries = await Promise.all(files.map((f) => summarizeProfile(join(dir, f), 1000)));
  return summaries.sort((a, b) => b.totalMs - a.totalMs)[0] as ProfileSummary;
}

/**
 * `count` profiled builds of the grok and local sites, alternately: their mean summaries, and each build's
 * main-thread busy time (the profile less its idle time), whose medians compare the sites' own CPU work with the
 * waiting taken out.
 */
async function profiledBuilds(count: number, grokEnv: NodeJS.ProcessEnv, localEnv: NodeJS.ProcessEnv) {
  if (count === 0) return {};
  const grok: ProfileSummary[] = [];
  const local: ProfileSummary[] = [];
  for (let run = 0; run < count; run++) {
    grok.push(await profiled(grokRoot, grokEnv, join(base, "profile-grok")));
    local.push(await profiled(localRoot, localEnv, join(base, "profile-local")));
  }
  const busy = (summaries: readonly ProfileSummary[]) => summaries.map((p) => p.totalMs - p.idleMs);
  return {
    profiles: count,
    grokProfile: meanProfile(grok),
    localProfile: meanProfile(local),
    grokBusyMs: busy(grok),
    localBusyMs: busy(local),
    busyRatio: median(busy(grok)) / median(busy(local)),
  };
}

/** Writes both sites, fills the grok cache, and gives the local site the very files the grok modules import. */
async function makeSites(): Promise<void> {
  await rm(base, { recursive: true, force: true });
  await mkdir(base, { recursive: true });
  if (!base.startsWith(repo))
    await symlink(join(repo, "test/node_modules"), join(base, "node_modules"), "dir");
  const emulator = await emulatorProcess({ latencyMs: 20, imageScale: 0.5 });
  try {
    await fillSites(emulator.url);
  } finally {
    await emulator.close();
  }
}

async function fillSites(apiUrl: string): Promise<void> {
  // As the Astro integration loads them: Astro gets the original pixels and encodes them itself.
  const uses = directiveUses(grokRoot, directives, PROMPT).map((use) => ({
    ...use,
    directive: forHost(use.directive, "metadata"),
  }));
  await writeSite(grokRoot, true, (i) => `grok:${PROMPT} number ${i}`);
  // Fill the grok cache (originals) through the engine with short poll delays: the cold path is not measured here.
  const filling = engineFor(grokRoot, apiUrl, 32, FAST_CLIENT);
  await filling.prepare(uses);
  // The files the grok modules import (the variants), derived now; the local site gets byte-identical copies.
  const files: string[] = new Array(directives);
  await eachLimit(uses, 4, async (use) => {
    const [image] = await filling.images(use);
    files[uses.indexOf(use)] = image?.file as string;
  });
  await filling.close();
  await mkdir(join(localRoot, "src/assets"), { recursive: true });
  await Promise.all(
    files.map((file, i) => copyFile(file, join(localRoot, "src/assets", `image-${i}${extname(file)}`))),
  );
  const localImage = (i: number) => `../assets/image-${i}${extname(files[i] as string)}`;
  await writeSite(localRoot, false, localImage);
  await cp(join(localRoot, "src/assets"), join(plainRoot, "src/assets"), { recursive: true });
  await writeSite(plainRoot, true, localImage);
}

/**
 * Where a page's module id starts its path from the site's root: the key of a captured page; and the name of the
 * file its captured module is kept in.
 */
const PAGE_KEY = `
const pageKey = (id) => {
  const path = id.replaceAll("\\\\", "/");
  const at = path.indexOf("/src/pages/");
  return at < 0 ? undefined : path.slice(at);
};
const capturedName = (key) => encodeURIComponent(key);`;

/**
 * The grok site's config, plus a plugin that writes each page's module as it went into the bundle (after every
 * transform, the plugin's included) to a file of its own in `captured/` beside the sites, and the code the plugin's
 * `transform` was handed for each page to `plugin-input.json` (plugin-hooks-child.mjs replays it).
 */
const CAPTURE_CONFIG = `import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "astro/config";
import grokImage from "astro-grok-image";
${PAGE_KEY}
const inputs = {};
const capture = {
  name: "capture-pages",
  configResolved(config) {
    const grok = config.plugins.find((plugin) => plugin.name === "vite-plugin-grok-image");
    if (!grok || grok.transform.captured) return;
    const handler = grok.transform.handler;
    grok.transform.handler = function (code, id) {
      const key = pageKey(id);
      if (key) inputs[key] = code;
      return handler.call(this, code, id);
    };
    grok.transform.captured = true;
  },
  buildEnd() {
    const captured = fileURLToPath(new URL("../captured/", import.meta.url));
    mkdirSync(captured, { recursive: true });
    for (const id of this.getModuleIds()) {
      const key = pageKey(id);
      const code = key && this.getModuleInfo(id)?.code;
      if (code) writeFileSync(captured + capturedName(key), code);
    }
    writeFileSync(new URL("../plugin-input.json", import.meta.url), JSON.stringify(inputs));
  },
};
export default defineConfig({ integrations: [grokImage()], vite: { plugins: [capture] } });
`;

/**
 * No integration: each page's module is replaced by the grok build's, after Astro has compiled it as usual. Each
 * page's code is read from its own file as the page comes through, so the replay itself reads and keeps next to
 * nothing: one object of every page (1.5 MB at 2,000 images), parsed at the start and kept, is the size of the
 * plugin's own record of hits, the very kind of work the replay is there to tell apart from the bundler's.
 */
const REPLAY_CONFIG = `import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "astro/config";
${PAGE_KEY}
const captured = fileURLToPath(new URL("./captured/", import.meta.url));
const replay = {
  name: "replay-pages",
  transform: {
    order: "post",
    filter: { id: /[\\\\/]src[\\\\/]pages[\\\\/]/ },
    handler(code, id) {
      const key = pageKey(id);
      if (!key) throw new Error(\`no captured module for \${id}\`);
      return { code: readFileSync(captured + capturedName(key), "utf8"), map: null };
    },
  },
};
export default defineConfig({ vite: { plugins: [replay] } });
`;

/**
 * The replay site: the grok site's pages as the grok build bundled them (every directive already written into its
 * page, importing its file from `.grok-images/variants/`), its variant files at the same place, and no plugin. It
 * differs from the local site only in what the plugin writes (where the files are, the constants beside each
 * import) and from the grok site only in the plugin's own work (loading, the scan, reading the cache, a `stat` per
 * hit, writing the imports), so it splits the ratio in two. A page left with a `grok:` import fails its build.
 */
async function makeReplaySite(grokEnv: NodeJS.ProcessEnv): Promise<void> {
  const config = join(grokRoot, "astro.capture.mjs");
  await writeFile(config, CAPTURE_CONFIG);
  try {
    await astroBuild(grokRoot, grokEnv, [], ["--config", "astro.capture.mjs"]);
  } finally {
    await rm(config, { force: true });
  }
  await rm(replayRoot, { recursive: true, force: true });
  await cp(join(grokRoot, "src"), join(replayRoot, "src"), { recursive: true });
  await cp(join(grokRoot, ".grok-images/variants"), join(replayRoot, ".grok-images/variants"), {
    recursive: true,
  });
  await cp(join(base, "captured"), join(replayRoot, "captured"), { recursive: true });
  await copyFile(join(grokRoot, "package.json"), join(replayRoot, "package.json"));
  await writeFile(join(replayRoot, "astro.config.mjs"), REPLAY_CONFIG);
}

const SITES = ["grok", "local", "plain", "replay"] as const;
type SiteName = (typeof SITES)[number];

/** The sites in the order of round `run`: which goes first rotates, so a drift in the machine's load weighs on all alike. */
function rotation(run: number): SiteName[] {
  return SITES.map((_, i) => SITES[(i + run) % SITES.length] as SiteName);
}

/**
 * A snapshot of Node's compile cache for each site (compile-cache.ts), made by builds of that site alone with
 * `nodeFlags`: every measured build of a site starts from the same one.
 */
async function compileCaches(
  sites: Record<SiteName, { root: string; env: NodeJS.ProcessEnv }>,
  nodeFlags: readonly string[],
): Promise<Record<SiteName, string>> {
  const snapshots = {} as Record<SiteName, string>;
  for (const which of SITES) {
    const { root, env } = sites[which];
    snapshots[which] = join(base, "compile-cache", which);
    await snapshotCompileCache(snapshots[which], env, (cached) => astroBuild(root, cached, nodeFlags));
  }
  return snapshots;
}

/** Instructions of `count` builds of each site, in rotation, and the main thread's ratios of their medians. */
async function instructionCounts(
  sites: Record<SiteName, { root: string; env: NodeJS.ProcessEnv }>,
  count: number,
): Promise<Record<string, unknown>> {
  const counts = { grok: [], local: [], plain: [], replay: [] } as Record<SiteName, InstructionCount[]>;
  // As countInstructions runs Node: the compile cache is kept apart for each set of V8 flags.
  const snapshots = await compileCaches(sites, ["--predictable"]);
  for (let run = 0; run < count; run++) {
    for (const which of rotation(run)) {
      const { root, env } = sites[which];
      counts[which].push(
        await withCompileCache(snapshots[which], env, (cached) =>
          countInstructions(root, cached, [ASTRO, "build"]),
        ),
      );
    }
  }
  const main = (which: SiteName) => median(counts[which].map((c) => c.mainM));
  // The main thread less the collector: what repeats from build to build (instructions.ts).
  const rest = (which: SiteName) => median(counts[which].map((c) => c.mainM - c.collectorM));
  return {
    directives,
    instructionRuns: count,
    instructions: counts,
    mainRatio: main("grok") / main("local"),
    mainPlainRatio: main("plain") / main("local"),
    mainReplayRatio: main("replay") / main("local"),
    mainPluginRatio: main("grok") / main("replay"),
    restRatio: rest("grok") / rest("local"),
    restPlainRatio: rest("plain") / rest("local"),
    restReplayRatio: rest("replay") / rest("local"),
    restPluginRatio: rest("grok") / rest("replay"),
  };
}

/**
 * The plugin's build hooks on the grok site's pages without Astro, under callgrind, `count` times per phase: the
 * main thread's instructions of loading alone, of loading and the plan, and of everything; the medians' differences
 * are the plan's and the transforms' own work.
 */
async function pluginHookCounts(env: NodeJS.ProcessEnv, count: number): Promise<Record<string, unknown>> {
  const phases = ["load", "plan", "all"] as const;
  const counts = { load: [], plan: [], all: [] } as Record<(typeof phases)[number], number[]>;
  for (let run = 0; run < count; run++) {
    for (const phase of phases) {
      const args = JSON.stringify({ root: grokRoot, pages: join(base, "plugin-input.json"), phase });
      counts[phase].push((await countInstructions(grokRoot, env, [HOOKS_CHILD, args])).mainM);
    }
  }
  const load = median(counts.load);
  const plan = median(counts.plan);
  const all = median(counts.all);
  return { hookRuns: count, hookMainM: counts, planWorkM: plan - load, transformWorkM: all - plan };
}

try {
  if (!reuse) await makeSites();

  // A real key and generate mode, as on a developer's machine, but an API origin where nothing listens: a cached
  // build that made any request would fail.
  const grokEnv = baseEnv({
    MAXAPI_KEY: API_KEY,
    MAXAPI_BASE_URL: "http://127.0.0.1:9",
    GROK_IMAGE_MODE: "generate",
  });
  const localEnv = baseEnv({});
  const sites = {
    grok: { root: grokRoot, env: grokEnv, ms: [] as number[], cpuMs: [] as number[] },
    local: { root: localRoot, env: localEnv, ms: [] as number[], cpuMs: [] as number[] },
    plain: { root: plainRoot, env: grokEnv, ms: [] as number[], cpuMs: [] as number[] },
    replay: { root: replayRoot, env: localEnv, ms: [] as number[], cpuMs: [] as number[] },
  };
  // The first build of each fills Astro's image cache (node_modules/.astro); every timed build is a cached one.
  const firstGrok = await astroBuild(grokRoot, grokEnv);
  const firstLocal = await astroBuild(localRoot, localEnv);
  await astroBuild(plainRoot, grokEnv);
  await makeReplaySite(grokEnv);
  await astroBuild(replayRoot, localEnv);
  const hookCounts = hooks > 0 ? await pluginHookCounts(grokEnv, hooks) : {};
  // Counted, or timed; with `"hooks"` and no runs, neither.
  const measured =
    instructions > 0
      ? await instructionCounts(sites, instructions)
      : runs > 0 || hooks === 0
        ? await timedRuns(sites, firstGrok.ms, firstLocal.ms, grokEnv, localEnv)
        : { directives };
  report({ ...measured, ...hookCounts });
} finally {
  if (!keep && !reuse) await rm(base, { recursive: true, force: true });
}

/** `runs` timed builds of each site, in rotation, compared; then the profiles, if asked for. */
async function timedRuns(
  sites: Record<SiteName, { root: string; env: NodeJS.ProcessEnv; ms: number[]; cpuMs: number[] }>,
  firstGrokMs: number,
  firstLocalMs: number,
  grokEnv: NodeJS.ProcessEnv,
  localEnv: NodeJS.ProcessEnv,
): Promise<Record<string, unknown>> {
  const snapshots = await compileCaches(sites, []);
  for (let run = 0; run < runs; run++) {
    for (const which of rotation(run)) {
      const site = sites[which];
      const build = await withCompileCache(snapshots[which], site.env, (env) => astroBuild(site.root, env));
      site.ms.push(build.ms);
      site.cpuMs.push(build.cpuMs);
    }
  }
  const { ms: grokMs, cpuMs: grokCpuMs } = sites.grok;
  const { ms: localMs, cpuMs: localCpuMs } = sites.local;
  const grokMedian = median(grokMs);
  const localMedian = median(localMs);
  const profiles = await profiledBuilds(profile === true ? 5 : profile || 0, grokEnv, localEnv);
  return {
    directives,
    runs,
    pages: Math.ceil(directives / PER_PAGE),
    firstGrokMs,
    firstLocalMs,
    grokMs,
    localMs,
    grokMedianMs: grokMedian,
    localMedianMs: localMedian,
    ratio: grokMedian / localMedian,
    ratioInterval: ratioInterval(grokMs, localMs),
    pairedRatio: pairedRatio(grokMs, localMs),
    grokCpuMs,
    localCpuMs,
    cpuRatio: median(grokCpuMs) / median(localCpuMs),
    plainMs: sites.plain.ms,
    plainMedianMs: median(sites.plain.ms),
    plainRatio: median(sites.plain.ms) / localMedian,
    plainPairedRatio: pairedRatio(sites.plain.ms, localMs),
    plainCpuRatio: median(sites.plain.cpuMs) / median(localCpuMs),
    replayMs: sites.replay.ms,
    replayCpuMs: sites.replay.cpuMs,
    replayRatio: median(sites.replay.ms) / localMedian,
    replayPairedRatio: pairedRatio(sites.replay.ms, localMs),
    replayCpuRatio: median(sites.replay.cpuMs) / median(localCpuMs),
    pluginRatio: grokMedian / median(sites.replay.ms),
    pluginPairedRatio: pairedRatio(grokMs, sites.replay.ms),
    pluginCpuRatio: median(grokCpuMs) / median(sites.replay.cpuMs),
    ...profiles,
  };
}
