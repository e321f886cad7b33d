#!/usr/bin/env node
import { parseArgs } from "node:util";
import { closeOnSignal } from "./close-on-signal.js";
import { loadFaults } from "./load-faults.js";
import { startEmulator } from "./start-emulator.js";
import type { EmulatorOptions } from "./types.js";

const USAGE = `Usage: maxapi-emulator [options]

  --port N                    API port (0 picks a free one)           [default: 0]
  --cdn-port N                CDN port                                [default: 0]
  --host HOST                 interface to listen on                  [default: 127.0.0.1]
  --api-key KEY               accepted Bearer token (repeatable; default: any non-empty token)
  --latency MS                submit-to-terminal time per task        [default: 300]
  --faults FILE               fault rules (.json or .js)
  --image-scale X             image dimension multiplier              [default: 1]
  --seed S                    image colour seed
  --url-ttl MS                result URL lifetime                     [default: 7 days]
  --invalid-parameters MODE   reject | fail                           [default: reject]
  --cancellable MODE          pending | non-terminal                  [default: pending]
  --allow-private-callbacks   deliver webhooks to localhost/private addresses
  --max-in-flight N           tasks running at once; a submit above it gets 429 [default: no limit]
  --retry-after S             Retry-After (seconds) of that 429         [default: 1]
  -h, --help                  show this help
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: "0" },
      "cdn-port": { type: "string", default: "0" },
      host: { type: "string", default: "127.0.0.1" },
      "api-key": { type: "string", multiple: true },
      latency: { type: "string" },
      faults: { type: "string" },
      "image-scale": { type: "string" },
      seed: { type: "string" },
      "url-ttl": { type: "string" },
      "invalid-parameters": { type: "string" },
      cancellable: { type: "string" },
      "allow-private-callbacks": { type: "boolean" },
      "max-in-flight": { type: "string" },
      "retry-after": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const options: EmulatorOptions = {
    port: toNumber("port", values.port),
    cdnPort: toNumber("cdn-port", values["cdn-port"]),
    host: values.host,
    apiKeys: values["api-key"],
    latencyMs: toNumber("latency", values.latency),
    imageScale: toNumber("image-scale", values["image-scale"]),
    seed: values.seed,
    urlTtlMs: toNumber("url-ttl", values["url-ttl"]),
    invalidParameters: values["invalid-parameters"] as EmulatorOptions["invalidParameters"],
    cancellable: values.cancellable as EmulatorOptions["cancellable"],
    allowPrivateCallbacks: values["allow-private-callbacks"],
    maxTasksInFlight: toNumber("max-in-flight", values["max-in-flight"]),
    inFlightRetryAfter: toNumber("retry-after", values["retry-after"]),
    faults: values.faults ? await loadFaults(values.faults) : undefined,
  };
  const emulator = await startEmulator(options);
  process.stdout.write(
    `maxapi-emulator listening on ${emulator.url}\nMAXAPI_BASE_URL=${emulator.url}\nCDN_URL=${emulator.cdnUrl}\n`,
  );
  closeOnSignal(emulator);
}

function toNumber(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (value.trim() === "" || !Number.isFinite(number))
    throw new TypeError(`--${name} must be a number, got "${value}"`);
  return number;
}

main().catch((error: unknown) => {
  process.stderr.write(
    `maxapi-emulator: ${error instanceof Error ? error.message : String(error)}\n${USAGE}`,
  );
  process.exitCode = 2;
});
