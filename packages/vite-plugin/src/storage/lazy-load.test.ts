import { execFile } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Machine, type Services, startMachine, startServices } from "./__test__/machines.js";

/*
 * SPEC section 9: a hit loads no HTTP client. With a shared cache configured, a build whose directives all hit the
 * local cache must not even load the S3 layer (aws4fetch, the store, the claim code): only a miss does. The engine
 * runs from the package's built `dist/` in a child process whose module resolutions are recorded.
 */
const DIST = pathToFileURL(fileURLToPath(new URL("../../dist/", import.meta.url))).href;
const CHILD = `
import { registerHooks } from "node:module";
const loaded = [];
registerHooks({
  resolve(specifier, context, next) {
    const found = next(specifier, context);
    loaded.push(found.url);
    return found;
  },
});
const { createEngine } = await import("${DIST}engine/create-engine.js");
const { resolveOptions } = await import("${DIST}options/resolve-options.js");
const { parseDirective } = await import("${DIST}directive/parse-directive.js");
const options = resolveOptions({ mode: "frozen" }, { root: process.env.TEST_ROOT, env: process.env, command: "build" });
const engine = createEngine(options);
const use = { directive: parseDirective(process.env.TEST_RAW, { tier: "lite", format: "webp", quality: 80 }) };
await engine.plan([use]);
await engine.images(use).catch(() => {});
await engine.close();
process.stdout.write(JSON.stringify(loaded.filter((url) => /aws4fetch|\\/storage\\/(?!engine-hooks)/.test(url))));
`;

let services: Services;
let a: Machine;
beforeAll(async () => {
  services = await startServices();
  a = await startMachine(services);
  await a.engine.prepare(a.uses("grok:a cached image"));
});
afterAll(async () => {
  await a.close();
  await services.close();
});

/** The S3 layer's modules a child build loaded. Asynchronous: the child talks to this process's S3 emulator. */
async function modulesLoaded(raw: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", CHILD], {
    env: { ...process.env, ...services.env(), TEST_ROOT: a.root, TEST_RAW: raw },
    encoding: "utf8",
  });
  return (JSON.parse(stdout) as string[]).map((url) => url.replace(/^.*\/(?:dist|node_modules)\//, ""));
}

it("a cached build does not load the shared cache's code, though one is configured; a miss does", async () => {
  expect(await modulesLoaded("grok:a cached image")).toEqual([]);
  const onMiss = await modulesLoaded("grok:an image nobody generated");
  expect(onMiss).toEqual(expect.arrayContaining(["storage/shared-cache.js", "storage/s3-store.js"]));
  expect(onMiss.some((url) => url.includes("aws4fetch"))).toBe(true);
});
