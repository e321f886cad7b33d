import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { LITE, PRO, STANDARD, settle, startSharedEmulator, submitOk } from "./helpers.js";

let clock = Date.now();
const emulator = await startSharedEmulator(
  { latencyMs: 15, imageScale: 0.25, now: () => clock },
  (shared) => {
    shared.configure({ imageScale: 0.25, expiredStatus: 410, urlTtlMs: 7 * 24 * 3600_000 });
    clock = Date.now();
  },
);

async function urlsFor(input: Record<string, unknown>, model = LITE): Promise<string[]> {
  const { data } = await settle(emulator, await submitOk(emulator, input, model));
  return data.result?.urls ?? [];
}

async function download(url: string, headers: Record<string, string> = {}): Promise<Buffer> {
  const res = await fetch(url, { headers });
  if (res.status !== 200) throw new Error(`download ${url}: ${res.status}`);
  expect(res.headers.get("content-type")).toBe("image/jpeg");
  return Buffer.from(await res.arrayBuffer());
}

describe("result URLs", () => {
  it("live on a separate origin under /images/<taskId>/image-<i>.jpg", async () => {
    const taskId = await submitOk(emulator, { prompt: "two images", n: 2 });
    const { data } = await settle(emulator, taskId);
    expect(new URL(emulator.cdnUrl).origin).not.toBe(new URL(emulator.url).origin);
    expect(data.result?.urls).toEqual([
      `${emulator.cdnUrl}/images/${taskId}/image-0.jpg`,
      `${emulator.cdnUrl}/images/${taskId}/image-1.jpg`,
    ]);
  });

  it("serve decodable JPEGs without any key, and count requests that carry one", async () => {
    const [url] = await urlsFor({ prompt: "a lighthouse" });
    const bytes = await download(url as string);
    expect((await sharp(bytes).metadata()).format).toBe("jpeg");
    expect(emulator.counters.cdnAuthorizationHeaders).toBe(0);
    await download(url as string, { authorization: "Bearer leaked" });
    expect(emulator.counters.cdnAuthorizationHeaders).toBe(1);
    expect(emulator.counters.downloads).toBe(2);
  });

  it("answer 404 for unknown tasks and indexes", async () => {
    const [url] = await urlsFor({ prompt: "one image" });
    expect((await fetch((url as string).replace("image-0", "image-1"))).status).toBe(404);
    expect((await fetch(`${emulator.cdnUrl}/images/nope/image-0.jpg`)).status).toBe(404);
  });

  it("expire after urlTtlMs with 410, or 403 when configured", async () => {
    const [url] = await urlsFor({ prompt: "short lived" });
    clock += 7 * 24 * 3600_000 - 1;
    expect((await fetch(url as string)).status).toBe(200);
    clock += 2;
    const expired = await fetch(url as string);
    expect(expired.status).toBe(410);
    expect((await expired.text()).length).toBeLessThan(100);
    emulator.configure({ expiredStatus: 403 });
    expect((await fetch(url as string)).status).toBe(403);
  });
});

describe("images", () => {
  it("differ across prompts, indexes and repeated tasks, and repeat exactly after a reset", async () => {
    const [a0, a1] = await urlsFor({ prompt: "a blue whale", n: 2 });
    const [b0] = await urlsFor({ prompt: "a blue whale", n: 2 });
    const [c0] = await urlsFor({ prompt: "a green whale", n: 2 });
    const [bytesA0, bytesA1, bytesB0, bytesC0] = await Promise.all(
      [a0, a1, b0, c0].map((url) => download(url as string)),
    );
    expect(a0).not.toBe(b0);
    // A second task for the same prompt is a fresh generation (what a `v=2` variant pays for).
    expect(bytesA0?.equals(bytesB0 as Buffer)).toBe(false);
    expect(bytesA0?.equals(bytesA1 as Buffer)).toBe(false);
    expect(bytesA0?.equals(bytesC0 as Buffer)).toBe(false);
    emulator.reset();
    const [again] = await urlsFor({ prompt: "a blue whale", n: 2 });
    expect((await download(again as string)).equals(bytesA0 as Buffer)).toBe(true);
  });

  it("change with the seed", async () => {
    const [first] = await urlsFor({ prompt: "seeded" });
    emulator.configure({ seed: "other" });
    const [second] = await urlsFor({ prompt: "seeded" });
    emulator.configure({ seed: "maxapi-emulator" });
    const [a, b] = await Promise.all([download(first as string), download(second as string)]);
    expect(a.equals(b)).toBe(false);
  });

  it.each([
    [LITE, { prompt: "a wide landscape of hills" }, 1280, 720],
    [LITE, { prompt: "a tall portrait of a queen" }, 720, 1280],
    [LITE, { prompt: "a bowl of fruit" }, 1024, 1024],
    [STANDARD, { prompt: "city", ratio: "16:9", resolution: "1080p" }, 1920, 1080],
    [PRO, { prompt: "city", ratio: "9:16", resolution: "720p" }, 720, 1280],
    [PRO, { prompt: "city", ratio: "1:1" }, 1024, 1024],
  ])("%s %o has the expected dimensions (x imageScale)", async (model, input, width, height) => {
    const [url] = await urlsFor(input, model);
    const meta = await sharp(await download(url as string)).metadata();
    expect([meta.width, meta.height]).toEqual([Math.round(width * 0.25), Math.round(height * 0.25)]);
  });

  it("keep the scale of their submit time", async () => {
    emulator.configure({ imageScale: 0.5 });
    const [url] = await urlsFor({ prompt: "a bowl of fruit" });
    emulator.configure({ imageScale: 0.25 });
    expect((await sharp(await download(url as string)).metadata()).width).toBe(512);
  });
});
