import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { crossOriginReason, hasToken, newToken, remoteReason, TOKEN_HEADER } from "./request-guard.js";

const request = (headers: Record<string, string>) =>
  ({ headers: { host: "localhost:5173", ...headers } }) as unknown as IncomingMessage;

describe("crossOriginReason", () => {
  it("lets the workbench's own page in", () => {
    const own = { origin: "http://localhost:5173", "sec-fetch-site": "same-origin" };
    expect(crossOriginReason(request(own), true)).toBeUndefined();
    expect(crossOriginReason(request({ "sec-fetch-site": "same-origin" }), false)).toBeUndefined();
    // Typed into the address bar.
    expect(crossOriginReason(request({ "sec-fetch-site": "none" }), false)).toBeUndefined();
  });

  it("refuses other sites, other ports of the same host, and actions without an Origin", () => {
    expect(crossOriginReason(request({ "sec-fetch-site": "cross-site" }), false)).toMatch(/another site/);
    expect(
      crossOriginReason(request({ origin: "http://localhost:3000", "sec-fetch-site": "same-site" }), true),
    ).toMatch(/another site/);
    expect(crossOriginReason(request({ origin: "http://localhost:3000" }), true)).toMatch(
      /not from this dev server/,
    );
    expect(crossOriginReason(request({ "sec-fetch-site": "none" }), true)).toMatch(/another site/);
    expect(crossOriginReason(request({}), true)).toMatch(/no Origin/);
    expect(crossOriginReason(request({ origin: "null" }), true)).toMatch(/not a URL/);
  });
});

describe("hasToken", () => {
  it("accepts the server's token only", () => {
    const token = newToken();
    expect(token).not.toBe(newToken());
    expect(hasToken(request({ [TOKEN_HEADER]: token }), token)).toBe(true);
    expect(hasToken(request({ [TOKEN_HEADER]: `${token}x` }), token)).toBe(false);
    expect(hasToken(request({}), token)).toBe(false);
  });
});

describe("remoteReason", () => {
  const from = (remoteAddress: string) =>
    ({ headers: {}, socket: { remoteAddress } }) as unknown as IncomingMessage;

  it("lets actions from this machine in, over IPv4 and IPv6", () => {
    for (const address of ["127.0.0.1", "127.3.2.1", "::1", "::ffff:127.0.0.1"]) {
      expect(remoteReason(from(address))).toBeUndefined();
    }
  });

  it("refuses actions from other machines on the network (a dev server started with --host)", () => {
    for (const address of ["192.168.1.20", "10.0.0.5", "::ffff:192.168.1.20", "fe80::1"]) {
      expect(remoteReason(from(address))).toMatch(/only answer this machine.*came from/);
    }
  });
});
