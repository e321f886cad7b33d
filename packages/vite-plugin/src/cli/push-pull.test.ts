import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startS3Emulator } from "../../../maxapi-emulator/src/index.js";
import {
  BUCKET,
  type Machine,
  type Services,
  startMachine,
  startServices,
} from "../storage/__test__/machines.js";
import { captureIo } from "./__test__/capture-io.js";
import { runCli } from "./run-cli.js";
import type { ScanReport } from "./scan-command.js";

/*
 * `grok-image push` and `pull` between local caches and the emulator's S3 store, in the setup the README shows:
 * manifest.json kept in git, the image bytes only in the shared cache.
 */

let services: Services;
const machines: Machine[] = [];
const machine = async (env: NodeJS.ProcessEnv = {}) => {
  const m = await startMachine(services, { env });
  machines.push(m);
  return m;
};
/** Runs the CLI in `m`'s root with the shared cache's environment (no config file). */
async function cli(m: Machine, args: string[], env: NodeJS.ProcessEnv = {}) {
  const captured = captureIo(m.root, services.env(env));
  const code = await runCli([...args, "--no-config"], captured.io);
  return { code, out: captured.out, err: captured.err };
}
const originals = async (m: Machine) => (await readdir(join(m.options.cacheDir, "originals"))).sort();
const manifest = (m: Machine) => readFile(join(m.options.cacheDir, "manifest.json"), "utf8");

beforeAll(async () => {
  services = await startServices();
});
afterEach(async () => {
  await Promise.all(machines.splice(0).map((m) => m.close()));
  services.api.reset();
  services.s3.reset();
});
afterAll(() => services.close());

describe("grok-image push and pull", () => {
  it("push uploads what the store lacks, once; pull brings it to an empty cache, verified", async () => {
    // A cache made before the team shared one: nothing of it is in the store yet.
    const a = await machine({ GROK_IMAGE_REMOTE_CACHE: "" });
    await a.engine.prepare(a.uses("grok:a red fox in the snow", "grok:two kites over a hill?n=2"));
    expect(services.s3.listKeys(BUCKET)).toEqual([]);

    const dry = await cli(a, ["push", "--dry-run"]);
    expect(dry.out).toMatch(
      /^Would push 2 entries and 3 originals \(.+\) from \.grok-images to s3:\/\/team-cache\/site; 0 already there\.$/m,
    );
    expect(services.s3.listKeys(BUCKET)).toEqual([]);
    const pushed = await cli(a, ["push"]);
    expect(pushed.code).toBe(0);
    expect(services.s3.listKeys(BUCKET, "site/entries/")).toHaveLength(2);
    expect(services.s3.listKeys(BUCKET, "site/originals/")).toHaveLength(3);
    expect((await cli(a, ["push", "--json"])).out).toContain('"present": 2');

    const c = await machine();
    const pulled = await cli(c, ["pull"]);
    expect(pulled.code).toBe(0);
    expect(pulled.out).toContain("Pulled 2 new entries");
    expect(await manifest(c)).toBe(await manifest(a));
    expect(await originals(c)).toEqual(await originals(a));
    expect(services.api.counters.submits).toBe(2);
  });

  it("pull --only-manifest fills in the images of a manifest kept in git, and changes nothing else", async () => {
    const a = await machine();
    await a.engine.prepare(a.uses("grok:a lighthouse at dusk", "grok:a quiet harbour"));
    const b = await machine();
    await mkdir(b.options.cacheDir, { recursive: true });
    // The clone has only one of the two entries in its manifest.
    const full = JSON.parse(await manifest(a));
    const [firstKey] = Object.keys(full).sort();
    await writeFile(
      join(b.options.cacheDir, "manifest.json"),
      `${JSON.stringify({ [firstKey as string]: full[firstKey as string] }, null, 2)}\n`,
    );
    const before = await manifest(b);
    const pulled = await cli(b, ["pull", "--only-manifest"]);
    expect(pulled.code).toBe(0);
    expect(pulled.out).toContain("the originals of 1 more");
    expect(await manifest(b)).toBe(before);
    expect(await originals(b)).toHaveLength(1);
  });

  it("never uploads a damaged local original, and never keeps a damaged object from the store", async () => {
    const a = await machine({ GROK_IMAGE_REMOTE_CACHE: "" });
    await a.engine.prepare(a.uses("grok:a glass of water"));
    const [name] = await originals(a);
    const file = join(a.options.cacheDir, "originals", name as string);
    const good = await readFile(file);
    await writeFile(file, Buffer.concat([good.subarray(0, 100), Buffer.alloc(good.length - 100)]));
    const pushed = await cli(a, ["push"]);
    expect(pushed.code).toBe(1);
    expect(pushed.err).toMatch(/damaged .*does not match its sha256/);
    expect(services.s3.listKeys(BUCKET)).toEqual([]);

    // The intact file goes up; then the store's copy is damaged, and a pull refuses it.
    await writeFile(file, good);
    expect((await cli(a, ["push"])).code).toBe(0);
    const [object] = services.s3.listKeys(BUCKET, "site/originals/");
    services.s3.putObject(BUCKET, object as string, Buffer.from("not the image"));
    const b = await machine();
    const pulled = await cli(b, ["pull"]);
    expect(pulled.code).toBe(1);
    expect(pulled.err).toContain("is not used");
    expect(await readdir(join(b.options.cacheDir, "originals"))).toEqual([]);
  });

  it("says when no shared cache is configured (exit 2), and never prints the credentials", async () => {
    const secret = "never-print-this-secret-value-123";
    const a = await machine();
    const none = await cli(a, ["push"], { GROK_IMAGE_REMOTE_CACHE: "" });
    expect(none.code).toBe(2);
    expect(none.err).toContain("No shared cache is configured");
    const refused = await cli(a, ["pull"], { AWS_SECRET_ACCESS_KEY: secret });
    expect(refused.code).toBe(1);
    expect(refused.err).toContain("GROK_REMOTE_CACHE_AUTH");
    expect(refused.out + refused.err).not.toContain(secret);
  });

  it("scan counts what the shared cache holds as fetched, not paid, and says when it cannot read it", async () => {
    const a = await machine();
    await a.engine.prepare(a.uses("grok:a red fox in the snow"));
    const c = await machine();
    await mkdir(join(c.root, "src"), { recursive: true });
    await writeFile(
      join(c.root, "src", "page.ts"),
      'import fox from "grok:a red fox in the snow";\nimport heron from "grok:a blue heron at dawn";\n',
    );
    const scanned = await cli(c, ["scan", "--json"]);
    expect(scanned.code).toBe(0);
    const report = JSON.parse(scanned.out) as ScanReport;
    expect(report.directives.map((d) => [d.directive, d.status])).toEqual([
      ["grok:a red fox in the snow", "shared"],
      ["grok:a blue heron at dawn", "missing"],
    ]);
    expect(report.summary).toMatchObject({ cached: 0, shared: 1, missing: 1 });
    // Only the heron would be paid for.
    expect(report.summary.estimatedCostUsd).toBe(report.directives[1]?.costUsd);
    const listed = await cli(c, ["scan"]);
    expect(listed.out).toMatch(/^shared .+ grok:a red fox in the snow {2}\(fetched, not paid\)$/m);
    expect(listed.out).toContain("0 cached, 1 in the shared cache (fetched, not paid), 1 missing");
    // A scan reads and never writes: no local cache, nothing paid.
    expect(existsSync(c.options.cacheDir)).toBe(false);
    expect(services.api.counters.submits).toBe(1);

    await services.s3.setDown(true);
    const down = await cli(c, ["scan", "--json"]);
    await services.s3.setDown(false);
    expect(down.code).toBe(0);
    expect(down.err).toContain("The shared cache could not be read, so the missing ones may be there");
    expect(down.err).toContain("GROK_REMOTE_CACHE_UNAVAILABLE");
    expect((JSON.parse(down.out) as ScanReport).summary).toMatchObject({ shared: 0, missing: 2 });
  });

  it("verify counts originals kept only in the shared cache as notes, and one the store lacks too as damage", async () => {
    const a = await machine();
    await a.engine.prepare(a.uses("grok:a lighthouse at dusk"));
    // A clone with the manifest from git and no image bytes, as the README's setup keeps them.
    const b = await machine();
    await mkdir(b.options.cacheDir, { recursive: true });
    await writeFile(join(b.options.cacheDir, "manifest.json"), await manifest(a));

    const shared = await cli(b, ["verify"]);
    expect(shared.code, shared.out + shared.err).toBe(0);
    expect(shared.out).toMatch(
      /^note {5}.+ is not here but in the shared cache s3:\/\/team-cache\/site: a build fetches it$/m,
    );
    expect(shared.out).toContain("all intact");

    // Another prefix holds nothing: the original is gone everywhere.
    const elsewhere = await cli(b, ["verify", "--json"], { GROK_IMAGE_REMOTE_CACHE: `s3://${BUCKET}/other` });
    expect(elsewhere.code).toBe(1);
    expect(JSON.parse(elsewhere.out).problems).toMatchObject([{ kind: "original", absent: true }]);
    const none = await cli(b, ["verify"], { GROK_IMAGE_REMOTE_CACHE: "" });
    expect(none.code).toBe(1);
    expect(none.out).toContain("is missing");

    await services.s3.setDown(true);
    const down = await cli(b, ["verify"]);
    await services.s3.setDown(false);
    expect(down.code).toBe(1);
    expect(down.out).toContain("the shared cache could not be read to look for missing originals");
  });

  it("signs with the keys of the AWS profile AWS_PROFILE names when the environment holds none", async () => {
    const a = await machine();
    await a.engine.prepare(a.uses("grok:a lighthouse at dusk"));
    const c = await machine();
    const keys = services.env();
    const credentials = join(c.root, "aws-credentials");
    await writeFile(
      credentials,
      `[team]\naws_access_key_id = ${keys.AWS_ACCESS_KEY_ID}\naws_secret_access_key = ${keys.AWS_SECRET_ACCESS_KEY}\n`,
    );
    const noKeys = {
      AWS_ACCESS_KEY_ID: "",
      AWS_SECRET_ACCESS_KEY: "",
      AWS_SHARED_CREDENTIALS_FILE: credentials,
    };
    const pulled = await cli(c, ["pull"], { ...noKeys, AWS_PROFILE: "team" });
    expect(pulled.code, pulled.err).toBe(0);
    expect(pulled.out).toContain("Pulled 1 new entr");
    expect(pulled.out + pulled.err).not.toContain(keys.AWS_SECRET_ACCESS_KEY as string);

    const none = await cli(c, ["pull"], { ...noKeys, AWS_PROFILE: "nobody" });
    expect(none.code).toBe(1);
    expect(none.err).toContain("GROK_REMOTE_CACHE_AUTH");
    expect(none.err).toContain('AWS_PROFILE names the profile "nobody"');
  });

  it("signs with the keys a profile's credential_process prints, run once, and says when one fails", async () => {
    const a = await machine();
    await a.engine.prepare(a.uses("grok:a lighthouse at dusk"));
    const c = await machine();
    const keys = services.env();
    // A real process, as aws-vault or a password manager's CLI would be: it prints the keys, and logs each run.
    const runs = join(c.root, "runs.log");
    const printer = join(c.root, "print-keys.mjs");
    await writeFile(
      printer,
      [
        'import { appendFileSync } from "node:fs";',
        `appendFileSync(${JSON.stringify(runs)}, "ran\\n");`,
        'if (process.argv[2] === "fail") { console.error("stderr that may hold a secret"); process.exit(3); }',
        `console.log(JSON.stringify({ Version: 1, AccessKeyId: ${JSON.stringify(keys.AWS_ACCESS_KEY_ID)}, SecretAccessKey: ${JSON.stringify(keys.AWS_SECRET_ACCESS_KEY)}, Expiration: new Date(Date.now() + 3_600_000).toISOString() }));`,
      ].join("\n"),
    );
    const config = join(c.root, "aws-config");
    const command = `"${process.execPath}" "${printer}"`;
    await writeFile(
      config,
      `[profile tool]\ncredential_process = ${command}\n\n[profile broken]\ncredential_process = ${command} fail\n`,
    );
    const noKeys = {
      AWS_ACCESS_KEY_ID: "",
      AWS_SECRET_ACCESS_KEY: "",
      AWS_CONFIG_FILE: config,
      AWS_SHARED_CREDENTIALS_FILE: join(c.root, "no-credentials-file"),
    };
    const pulled = await cli(c, ["pull"], { ...noKeys, AWS_PROFILE: "tool" });
    expect(pulled.code, pulled.err).toBe(0);
    expect(pulled.out).toContain("Pulled 1 new entr");
    // Run once for every request of the pull: the keys it printed are good for an hour.
    expect(await readFile(runs, "utf8")).toBe("ran\n");
    expect(pulled.out + pulled.err).not.toContain(keys.AWS_SECRET_ACCESS_KEY as string);

    const broken = await cli(c, ["pull"], { ...noKeys, AWS_PROFILE: "broken" });
    expect(broken.code).toBe(1);
    expect(broken.err).toContain("GROK_REMOTE_CACHE_AUTH");
    expect(broken.err).toContain(
      'The credential_process of the AWS profile "broken" failed with exit code 3',
    );
    expect(broken.err).not.toContain("stderr that may hold a secret");
  });

  it("signs with the keys of the role the machine runs as: a container's endpoint, or EC2's metadata service", async () => {
    // Temporary keys, as a role's always are: the store accepts them only with their session token.
    const roleKeys = {
      accessKeyId: "ASIAROLEKEY000000001",
      secretAccessKey: "role/secret+key-0123456789",
      sessionToken: "role-session-token",
    };
    const store = await startS3Emulator({ buckets: [BUCKET], credentials: [roleKeys] });
    const seen: string[] = [];
    let expiresInMs = 3_600_000;
    const role = () =>
      JSON.stringify({
        AccessKeyId: roleKeys.accessKeyId,
        SecretAccessKey: roleKeys.secretAccessKey,
        Token: roleKeys.sessionToken,
        Expiration: new Date(Date.now() + expiresInMs).toISOString(),
      });
    // The documented endpoints, on a real HTTP server: ECS's container endpoint and EC2's IMDSv2.
    const server = createServer((req, res) => {
      const credential = req.headers.authorization ?? req.headers["x-aws-ec2-metadata-token"] ?? "";
      seen.push(`${req.method} ${req.url} ${credential}`);
      if (req.url === "/ecs/creds" && req.headers.authorization === "container-token") return res.end(role());
      if (req.method === "PUT" && req.url === "/latest/api/token") return res.end("imds-token");
      if (req.headers["x-aws-ec2-metadata-token"] === "imds-token") {
        if (req.url === "/latest/meta-data/iam/security-credentials/") return res.end("grok-role\n");
        if (req.url === "/latest/meta-data/iam/security-credentials/grok-role") return res.end(role());
      }
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const a = await machine();
    const noKeys = {
      AWS_ACCESS_KEY_ID: "",
      AWS_SECRET_ACCESS_KEY: "",
      HOME: a.root,
      AWS_ENDPOINT_URL_S3: store.url,
    };
    const container = {
      ...noKeys,
      AWS_CONTAINER_CREDENTIALS_FULL_URI: `${origin}/ecs/creds`,
      AWS_CONTAINER_AUTHORIZATION_TOKEN: "container-token",
    };
    try {
      await a.engine.prepare(a.uses("grok:a lighthouse at dusk", "grok:a quiet harbour"));
      const pushed = await cli(a, ["push"], container);
      expect(pushed.code, pushed.err).toBe(0);
      // Fetched once for every request of the push: the keys are good for an hour.
      expect(seen).toEqual(["GET /ecs/creds container-token"]);
      expect(store.listKeys(BUCKET, "site/entries/")).toHaveLength(2);

      seen.length = 0;
      // Keys that end within minutes are fetched again before a request is signed with them.
      expiresInMs = 60_000;
      const c = await machine();
      const pulled = await cli(c, ["pull"], { ...noKeys, AWS_EC2_METADATA_SERVICE_ENDPOINT: origin });
      expect(pulled.code, pulled.err).toBe(0);
      expect(pulled.out).toContain("Pulled 2 new entries");
      expect(seen.slice(0, 3)).toEqual([
        "PUT /latest/api/token ",
        "GET /latest/meta-data/iam/security-credentials/ imds-token",
        "GET /latest/meta-data/iam/security-credentials/grok-role imds-token",
      ]);
      expect(seen.filter((line) => line.includes("/grok-role")).length).toBeGreaterThan(1);
      expect(pushed.out + pushed.err + pulled.out + pulled.err).not.toContain(roleKeys.secretAccessKey);

      // No role anywhere: the error says what was tried.
      const none = await cli(c, ["pull"], {
        ...noKeys,
        AWS_EC2_METADATA_SERVICE_ENDPOINT: `${origin}/nothing`,
      });
      expect(none.code).toBe(1);
      expect(none.err).toContain("No credentials are set for the shared cache");
      expect(none.err).toContain("No EC2 instance role answered either");
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await store.close();
    }
  });
});
