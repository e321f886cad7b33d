// Cold `vite build`: a project whose `directives` images all miss the cache, built in a child process (as a user
// runs it) against an in-process emulator whose tasks take `latencyMs`, with the plugin's default poll schedule.
// Wall time against the ideal `ceil(misses / concurrency) x latency` (a fixed concurrency; for `auto`, the ideal at
// the concurrency the API allows: all of them at once, or `maxTasksInFlight`), queries per task, and where the
// time went: the first submit, the last task's end, and what came after it (derive, bundle, write).
import { spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startEmulator } from "../packages/maxapi-emulator/dist/index.js";
import { API_KEY, config, queryStats, report, tempRoot } from "./support.ts";

interface ViteColdConfig {
  latencyMs: number;
  directives: number;
  concurrency: number | "auto";
  /** The emulator answers 429 above this many tasks in flight. @default no limit */
  maxTasksInFlight?: number;
}

const { latencyMs, directives, concurrency, maxTasksInFlight } = config<ViteColdConfig>();
const child = fileURLToPath(new URL("./vite-build-child.ts", import.meta.url));
const emulator = await startEmulator({
  apiKeys: [API_KEY],
  latencyMs,
  imageScale: 0.25,
  ...(maxTasksInFlight ? { maxTasksInFlight } : {}),
});
const { root, remove } = await tempRoot();

function run(): Promise<number> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, MAXAPI_KEY: API_KEY, MAXAPI_BASE_URL: emulator.url };
    delete env.CI;
    delete env.GROK_IMAGE_MODE;
    const started = Date.now();
    const build = spawn(process.execPath, [child, JSON.stringify({ root, options: { concurrency } })], {
      env,
      stdio: ["ignore", "inherit", "inherit"],
    });
    build.on("error", reject);
    build.on("close", (code) =>
      code === 0 ? resolve(started) : reject(new Error(`vite build exited with ${code}`)),
    );
  });
}

try {
  await mkdir(join(root, "src"));
  await writeFile(
    join(root, "index.html"),
    '<!doctype html><html><body><script type="module" src="/src/main.js"></script></body></html>\n',
  );
  const prompts = Array.from(
    { length: directives },
    (_, i) => `cold vite build at ${latencyMs} ms, number ${i}`,
  );
  await writeFile(
    join(root, "src/main.js"),
    `${prompts.map((p, i) => `import image${i} from "grok:${p}?w=64";`).join("\n")}\n` +
      `document.body.append(...[${prompts.map((_, i) => `image${i}`).join(", ")}].map((image) => Object.assign(new Image(), { src: image.src })));\n`,
  );
  const started = await run();
  const wallMs = Date.now() - started;
  const tasks = Object.keys(emulator.counters.queriesByTask)
    .map((id) => emulator.getTask(id))
    .filter((t) => t !== undefined);
  if (emulator.counters.tasksCreated !== directives || tasks.length !== directives) {
    throw new Error(`expected ${directives} tasks, the emulator created ${emulator.counters.tasksCreated}`);
  }
  const firstSubmitMs = Math.min(...tasks.map((t) => Date.parse(t.created_at))) - started;
  const lastDoneMs = Math.max(...tasks.map((t) => Date.parse(t.updated_at))) - started;
  const allowed = concurrency === "auto" ? (maxTasksInFlight ?? directives) : concurrency;
  const idealMs = Math.ceil(directives / allowed) * latencyMs;
  report({
    latencyMs,
    directives,
    concurrency,
    maxTasksInFlight: maxTasksInFlight ?? null,
    wallMs,
    idealMs,
    ratio: wallMs / idealMs,
    latencies: wallMs / latencyMs,
    firstSubmitMs,
    lastDoneMs,
    afterLastDoneMs: wallMs - lastDoneMs,
    throttled: emulator.counters.throttled,
    peakTasksInFlight: emulator.counters.peakTasksInFlight,
    ...queryStats(emulator.counters),
  });
} finally {
  await emulator.close();
  await remove();
}
