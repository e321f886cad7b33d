import { readdir } from "node:fs/promises";
import type { Emulator, S3Emulator } from "maxapi-emulator";
import { S3_EMULATOR_ACCESS_KEY_ID, S3_EMULATOR_SECRET_ACCESS_KEY, startS3Emulator } from "maxapi-emulator";
import { build, createServer, type InlineConfig } from "vite";
import { type GrokImageOptions, grokImage } from "vite-plugin-grok-image";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureLogger } from "../helpers/capture-logger.js";
import { hashFiles } from "../helpers/dist-files.js";
import { type TempProjects, tempProjects } from "../helpers/temp-project.js";
import { grokTestOptions, startTestEmulator } from "../helpers/with-emulator.js";

/*
 * Two machines (two copies of one project, each with its own `.grok-images/`) sharing one bucket of the emulator's
 * S3 server, with real `vite build` runs: what one paid for, the other builds for free, byte for byte; and two
 * builds of the same new images at the same time pay once per image.
 */

const ENV = {
  AWS_ACCESS_KEY_ID: S3_EMULATOR_ACCESS_KEY_ID,
  AWS_SECRET_ACCESS_KEY: S3_EMULATOR_SECRET_ACCESS_KEY,
  AWS_REGION: "us-east-1",
} as const;
const saved = Object.fromEntries(Object.keys(ENV).map((k) => [k, process.env[k]]));

let api: Emulator;
let s3: S3Emulator;
const projects: TempProjects = tempProjects();

beforeAll(async () => {
  [api, s3] = await Promise.all([startTestEmulator(), startS3Emulator({ buckets: ["team"] })]);
  // Credentials come from the environment only, as the AWS tools read them.
  Object.assign(process.env, ENV);
});
afterAll(async () => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  await Promise.all([api?.close(), s3?.close(), projects.removeAll()]);
});

async function buildMachine(prefix: string, options: GrokImageOptions = {}) {
  const project = await projects.copy("vite-basic");
  const logger = captureLogger();
  const config: InlineConfig = {
    root: project.root,
    configFile: false,
    logLevel: "silent",
    customLogger: logger,
    plugins: [
      grokImage(
        grokTestOptions(api, { remoteCache: { url: `s3://team/${prefix}`, endpoint: s3.url }, ...options }),
      ),
    ],
    build: { outDir: project.resolve("dist"), emptyOutDir: true },
  };
  return { project, logger, run: () => build(config) };
}

describe("vite build with a shared cache", () => {
  it("A pays for its images once; B builds the same site with an empty cache in frozen mode, pays nothing, ships the same bytes", async () => {
    const a = await buildMachine("site");
    await a.run();
    expect(api.counters.submits).toBe(3);
    expect(s3.listKeys("team", "site/entries/")).toHaveLength(3);
    expect(s3.listKeys("team", "site/originals/")).toHaveLength(4);

    const b = await buildMachine("site", { mode: "frozen" });
    await b.run();
    expect(api.counters.submits).toBe(3);
    expect(b.logger.infos.filter((line) => line.startsWith("[grok-image] fetched "))).toHaveLength(3);
    expect(await readdir(b.project.resolve(".grok-images", "originals"))).toHaveLength(4);
    expect(await hashFiles(b.project.resolve("dist"))).toEqual(await hashFiles(a.project.resolve("dist")));
  });

  it("A and B building the same new images at the same time pay once per image", async () => {
    const before = api.counters.submits;
    const [a, b] = await Promise.all([buildMachine("together"), buildMachine("together")]);
    await Promise.all([a.run(), b.run()]);
    expect(api.counters.submits - before).toBe(3);
    expect(await hashFiles(b.project.resolve("dist"))).toEqual(await hashFiles(a.project.resolve("dist")));
    expect(s3.listKeys("team", "together/claims/")).toEqual([]);
  });

  it("a store that is down stops the build with GROK_REMOTE_CACHE_UNAVAILABLE before anything is paid", async () => {
    const before = api.counters.submits;
    const c = await buildMachine("down");
    await s3.setDown(true);
    const error = await c.run().then(
      () => expect.fail("the build succeeded"),
      (e: unknown) => e as Error,
    );
    await s3.setDown(false);
    expect(error.message).toContain("GROK_REMOTE_CACHE_UNAVAILABLE");
    expect(error.message).toContain("The shared cache s3://team/down could not be used");
    expect(api.counters.submits).toBe(before);
  });
});

describe("vite dev with a shared cache", () => {
  it("a store that is down shows its code and hint on the request, pays nothing, and is tried again on the next", async () => {
    const project = await projects.copy("vite-basic");
    const logger = captureLogger();
    const server = await createServer({
      root: project.root,
      configFile: false,
      logLevel: "silent",
      customLogger: logger,
      plugins: [grokImage(grokTestOptions(api, { remoteCache: { url: "s3://team/dev", endpoint: s3.url } }))],
      server: { port: 0, strictPort: true, host: "127.0.0.1" },
      optimizeDeps: { noDiscovery: true, include: [] },
    });
    await server.listen();
    const origin = server.resolvedUrls?.local[0] ?? "";
    const before = api.counters.submits;
    try {
      await s3.setDown(true);
      // The module a browser asks for next: the first `grok:` import of the page, as the dev server rewrote it.
      const page = await (await fetch(`${origin}src/main.ts`)).text();
      const url = /from "(\/@id\/[^"]+)"/.exec(page)?.[1] ?? "";
      expect(url).toContain("grok-image");
      const down = await fetch(`${origin}${url.slice(1)}`);
      const text = await down.text();
      expect(down.status).toBe(500);
      expect(text).toContain("[GROK_REMOTE_CACHE_UNAVAILABLE]");
      expect(text).toContain("The shared cache s3://team/dev could not be used");
      expect(text).toContain("hint: ");
      expect(api.counters.submits).toBe(before);

      await s3.setDown(false);
      const back = await fetch(`${origin}${url.slice(1)}`);
      expect(back.status, await back.clone().text()).toBe(200);
      expect(await back.text()).toContain("export default");
    } finally {
      await s3.setDown(false);
      await server.close();
    }
  });
});
