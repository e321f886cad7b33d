#!/usr/bin/env node
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { closeOnSignal } from "./close-on-signal.js";
import type { S3EmulatorOptions, S3FaultRule } from "./s3/s3-types.js";
import {
  S3_EMULATOR_ACCESS_KEY_ID,
  S3_EMULATOR_SECRET_ACCESS_KEY,
  startS3Emulator,
} from "./s3/start-s3-emulator.js";

const USAGE = `Usage: maxapi-s3-emulator [options]

  --port N                 port (0 picks a free one)                         [default: 0]
  --host HOST              interface to listen on                            [default: 127.0.0.1]
  --bucket NAME            bucket that exists from the start (repeatable)    [default: grok-image-cache]
  --region REGION          region requests must be signed for                [default: us-east-1]
  --access-key-id ID       accepted access key id                            [default: ${S3_EMULATOR_ACCESS_KEY_ID}]
  --secret-access-key KEY  its secret                                        [default: ${S3_EMULATOR_SECRET_ACCESS_KEY}]
  --faults FILE            S3 fault rules (.json: an array, or { "faults": [...] })
  -h, --help               show this help
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: "0" },
      host: { type: "string", default: "127.0.0.1" },
      bucket: { type: "string", multiple: true },
      region: { type: "string" },
      "access-key-id": { type: "string" },
      "secret-access-key": { type: "string" },
      faults: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0)
    throw new TypeError(`--port must be a port number, got "${values.port}"`);
  if ((values["access-key-id"] === undefined) !== (values["secret-access-key"] === undefined)) {
    throw new TypeError("--access-key-id and --secret-access-key go together");
  }
  const accessKeyId = values["access-key-id"] ?? S3_EMULATOR_ACCESS_KEY_ID;
  const options: S3EmulatorOptions = {
    port,
    host: values.host,
    credentials: [
      { accessKeyId, secretAccessKey: values["secret-access-key"] ?? S3_EMULATOR_SECRET_ACCESS_KEY },
    ],
    ...(values.bucket ? { buckets: values.bucket } : {}),
    ...(values.region ? { region: values.region } : {}),
    ...(values.faults ? { faults: await loadS3Faults(values.faults) } : {}),
  };
  const emulator = await startS3Emulator(options);
  const buckets = options.buckets ?? ["grok-image-cache"];
  // The secret is printed only when it is the emulator's public default: one given on the command line stays off logs.
  const secret = values["secret-access-key"] === undefined ? S3_EMULATOR_SECRET_ACCESS_KEY : "<as given>";
  process.stdout.write(
    `maxapi-s3-emulator listening on ${emulator.url}\n` +
      `AWS_ENDPOINT_URL_S3=${emulator.url}\nAWS_REGION=${emulator.region}\n` +
      `AWS_ACCESS_KEY_ID=${accessKeyId}\nAWS_SECRET_ACCESS_KEY=${secret}\n` +
      `GROK_IMAGE_REMOTE_CACHE=s3://${buckets[0]}/grok-images\n`,
  );
  closeOnSignal(emulator);
}

/** A JSON file of rules; a `key` written as `"/pattern/flags"` is a RegExp. */
async function loadS3Faults(file: string): Promise<S3FaultRule[]> {
  const parsed = JSON.parse(await readFile(file, "utf8")) as unknown;
  const rules = (Array.isArray(parsed) ? parsed : (parsed as { faults?: unknown }).faults) as S3FaultRule[];
  if (!Array.isArray(rules))
    throw new TypeError(`${file}: expected an array of rules or { "faults": [...] }`);
  return rules.map((rule) => {
    const m = typeof rule.key === "string" ? /^\/(.*)\/([a-z]*)$/.exec(rule.key) : null;
    return m ? { ...rule, key: new RegExp(m[1] as string, m[2]) } : rule;
  });
}

main().catch((error: unknown) => {
  process.stderr.write(
    `maxapi-s3-emulator: ${error instanceof Error ? error.message : String(error)}\n${USAGE}`,
  );
  process.exitCode = 2;
});
