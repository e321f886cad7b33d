/**
 * Builds this site twice against a local MaxAPI emulator:
 * 1. from an empty cache: every `grok:` image is generated (watch the progress lines),
 * 2. again from the cache: zero API requests, which the emulator's own counters prove.
 *
 * Run with `npm run demo` at the repository root, or `node scripts/demo.ts` here (Node 24 runs TypeScript).
 */
import { rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { Counters } from "maxapi-emulator";
import { startEmulator } from "maxapi-emulator";

// Set before Astro loads: it reads these once.
process.env.ASTRO_TELEMETRY_DISABLED = "1";

const root = fileURLToPath(new URL("..", import.meta.url));
const cacheDir = fileURLToPath(new URL("../.grok-images/", import.meta.url));
const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[22m` : text);

function requests(c: Counters): number {
  return c.submits + c.queries + c.downloads;
}

function describe(c: Counters): string {
  return `${c.submits} submits, ${c.queries} status queries, ${c.downloads} downloads, $${c.costUsd.toFixed(3)} charged`;
}

// A second or two per task, like the real API on a good day, so the progress lines are worth watching.
const emulator = await startEmulator({ latencyMs: 1500 });
try {
  process.env.MAXAPI_BASE_URL = emulator.url;
  process.env.MAXAPI_KEY = "demo-key";
  // CI sets CI=true, which would default to "frozen" (never generate). The demo is meant to generate.
  process.env.GROK_IMAGE_MODE = "generate";
  const { build } = await import("astro");

  console.log(bold(`\nMaxAPI emulator listening on ${emulator.url}`));
  await rm(cacheDir, { recursive: true, force: true });
  console.log(bold("\n① Cold build: the cache is empty, every image is generated\n"));
  let started = performance.now();
  await build({ root });
  const cold = { ...emulator.counters };
  const coldSeconds = ((performance.now() - started) / 1000).toFixed(1);

  console.log(bold("\n② Warm build: the same site, straight from .grok-images/\n"));
  started = performance.now();
  await build({ root });
  const warmSeconds = ((performance.now() - started) / 1000).toFixed(1);
  const warmRequests = requests(emulator.counters) - requests(cold);

  console.log(bold("\nSummary"));
  console.log(`  cold build: ${coldSeconds}s, ${describe(cold)}`);
  console.log(`  warm build: ${warmSeconds}s, ${warmRequests} API requests`);
  console.log(`  site:       ${fileURLToPath(new URL("../dist/", import.meta.url))}`);
  console.log(`  preview:    cd examples/astro-site && npx astro preview\n`);
  if (warmRequests !== 0) {
    console.error(`The warm build made ${warmRequests} API requests; it should have made none.`);
    process.exitCode = 1;
  }
} finally {
  await emulator.close();
}
