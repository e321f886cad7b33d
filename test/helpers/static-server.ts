/*
 * A tiny static file server on port 0 for built sites (`dist/`), so a browser test loads exactly the files a
 * build wrote. Shared by the Vite and Astro suites.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".webp": "image/webp",
  ".avif": "image/avif",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
};

export interface StaticServer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves `dir` at `base` (e.g. `/sub/` for a site built with `base: "/sub/"`); `/x/` serves `/x/index.html`.
 * Missing files answer 404, so a reference to a file the build did not write shows up as a failed load.
 */
export async function serveStatic(dir: string, base = "/"): Promise<StaticServer> {
  const root = path.resolve(dir);
  const server = createServer((req, res) => {
    void (async () => {
      const pathname = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
      const inBase = pathname.startsWith(base) ? pathname.slice(base.length) : undefined;
      let file = inBase === undefined ? undefined : path.join(root, inBase);
      if (file && !file.startsWith(root)) file = undefined;
      if (file && (await stat(file).catch(() => undefined))?.isDirectory())
        file = path.join(file, "index.html");
      const info = file ? await stat(file).catch(() => undefined) : undefined;
      if (!file || !info?.isFile()) {
        res.writeHead(404).end("not found");
        return;
      }
      res.writeHead(200, {
        "Content-Type": TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream",
        "Content-Length": info.size,
      });
      createReadStream(file).pipe(res);
    })().catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
