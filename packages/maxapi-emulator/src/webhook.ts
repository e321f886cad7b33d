import type { ClientRequest } from "node:http";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP } from "node:net";

/**
 * True for localhost and private, loopback, link-local and unspecified addresses: the callback targets MaxAPI
 * refuses (MAXAPI.md §8, "Localhost is not supported"). Names are not resolved: the emulator has no DNS to trust.
 */
export function isPrivateUrl(rawUrl: string): boolean {
  const host = new URL(rawUrl).hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost") || host.endsWith(".local")) return true;
  const family = isIP(host);
  if (family === 4) return isPrivateIpv4(host);
  if (family === 6) {
    // WHATWG URL writes IPv4-mapped addresses in hex (::ffff:7f00:1 for 127.0.0.1).
    const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
    if (mapped?.[1] && mapped[2]) {
      const [high, low] = [Number.parseInt(mapped[1], 16), Number.parseInt(mapped[2], 16)];
      return isPrivateIpv4(`${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`);
    }
    return host === "::" || host === "::1" || /^f[cd]/.test(host) || /^fe[89ab]/.test(host);
  }
  return false;
}

function isPrivateIpv4(host: string): boolean {
  const [a = 0, b = 0] = host.split(".").map(Number);
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 100 && b >= 64 && b <= 127)
  );
}

/** Sends webhooks once each, with a timeout and no retry (MAXAPI.md §8); `close()` aborts those in flight. */
export class WebhookSender {
  #inFlight = new Set<ClientRequest>();

  /** Resolves true on a 2xx answer, false on anything else; never rejects. */
  send(url: string, payload: unknown, timeoutMs: number): Promise<boolean> {
    const body = Buffer.from(JSON.stringify(payload));
    const request = new URL(url).protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise((resolve) => {
      // agent: false so no keep-alive socket outlives the delivery and holds the process open.
      const req = request(url, {
        method: "POST",
        agent: false,
        headers: { "content-type": "application/json", "content-length": body.length },
        timeout: timeoutMs,
      });
      this.#inFlight.add(req);
      const done = (ok: boolean) => {
        this.#inFlight.delete(req);
        resolve(ok);
      };
      req.on("timeout", () => req.destroy(new Error(`webhook timed out after ${timeoutMs} ms`)));
      req.on("error", () => done(false));
      req.on("response", (res) => {
        res.resume();
        res.on("end", () => done((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300));
        res.on("error", () => done(false));
      });
      req.end(body);
    });
  }

  close(): void {
    for (const req of this.#inFlight) req.destroy();
    this.#inFlight.clear();
  }
}
