/*
 * The dev client: runs in every page that shows a waiting image (plain Vite: imported by the `grok:` module that
 * shows one; Astro: injected into every page). It marks waiting images as such, and when the dev server says a
 * generation is done it rewrites every URL that points at the waiting image (`src`, `srcset` of `<img>` and
 * `<source>`, Astro's `/_image?href=...`) to the real file. Nothing reloads: scroll position, form state and
 * whatever the page's scripts hold all stay.
 *
 * Served by the plugin as a virtual module, so it cannot import anything at run time: the event names are written
 * out here, typed against the server's constants so the two cannot drift apart.
 */
import type {
  FAILED_EVENT,
  FailedPayload,
  HELLO_EVENT,
  HelloPayload,
  ImageSwap,
  READY_EVENT,
  ReadyPayload,
} from "../protocol.js";

interface HotContext {
  on(event: string, listener: (data: never) => void): void;
  send(event: string, data?: unknown): void;
}

declare global {
  interface ImportMeta {
    /** Vite's HMR context (a Vite-served module reads it as `import.meta.hot`). */
    readonly hot?: HotContext;
  }
}

const READY: typeof READY_EVENT = "grok-image:ready";
const FAILED: typeof FAILED_EVENT = "grok-image:failed";
const HELLO: typeof HELLO_EVENT = "grok-image:hello";
/** The names of waiting images (see waiting-images.ts); never percent-encoded, so they match in any URL. */
const NAME = /grok-(?:generating|waiting|failed)-[0-9a-f]{20}-[0-9]+/;
const NAMES = /grok-(?:generating|waiting|failed)-[0-9a-f]{20}-[0-9]+/g;
const MARK = "data-grok-image";
const STYLE = `img[${MARK}=generating]{animation:grok-image-wait 1.2s ease-in-out infinite alternate}
@keyframes grok-image-wait{to{opacity:.55}}
img[${MARK}=failed]{outline:3px solid #e5484d;outline-offset:-3px}
img[${MARK}=waiting]{outline:2px dashed #8a96a8;outline-offset:-2px}`;

const flag = globalThis as { __grokImageDevClient?: boolean };
if (import.meta.hot && typeof document !== "undefined" && !flag.__grokImageDevClient) {
  flag.__grokImageDevClient = true;
  start(import.meta.hot);
}

function start(hot: HotContext): void {
  const swaps = new Map<string, ImageSwap>();
  const failed = new Map<string, string>();
  /** Names the server was asked about (it answers with those already done, then announces the rest). */
  const asked = new Set<string>();

  const style = document.createElement("style");
  style.textContent = STYLE;
  document.head.append(style);

  const reshaped = (swap: ImageSwap) =>
    Math.abs(swap.width / swap.height - swap.fromWidth / swap.fromHeight) > 0.01;

  /** A URL of the file itself: plain (`/x.png`), or Astro's dev form (`/@fs/x.png?origWidth=…`). */
  const fileUrl = (url: string, swap: ImageSwap) =>
    url.includes("origWidth=")
      ? `${swap.src}?origWidth=${swap.width}&origHeight=${swap.height}&origFormat=${swap.format}`
      : swap.src;

  const rewriteUrl = (url: string): string => {
    const name = NAME.exec(url)?.[0];
    const swap = name === undefined ? undefined : swaps.get(name);
    if (!name || !swap) return url;
    const parsed = new URL(url, location.href);
    const href = parsed.searchParams.get("href");
    if (href === null || !href.includes(name)) return fileUrl(url, swap);
    // Astro's image endpoint: the source file is a parameter; the size asked for keeps the new shape.
    parsed.searchParams.set("href", fileUrl(href, swap));
    const w = parsed.searchParams.get("w");
    if (w !== null && parsed.searchParams.has("h") && reshaped(swap)) {
      parsed.searchParams.set("h", String(Math.round((Number(w) * swap.height) / swap.width)));
    }
    return /^[a-z]+:/i.test(url) ? parsed.href : `${parsed.pathname}${parsed.search}${parsed.hash}`;
  };

  /**
   * Each candidate's URL, and its width descriptor when it gave the waiting image's width: an `as=srcset|picture`
   * output whose original turned out smaller than expected is clamped, and the browser must pick by its true width.
   */
  const rewriteSrcset = (srcset: string) =>
    srcset
      .split(",")
      .map((candidate) => {
        const [url = "", ...descriptors] = candidate.trim().split(/\s+/);
        const swap = swaps.get(NAME.exec(url)?.[0] ?? "");
        const width = swap && descriptors.map((d) => (d === `${swap.fromWidth}w` ? `${swap.width}w` : d));
        return [rewriteUrl(url), ...(width ?? descriptors)].join(" ");
      })
      .join(", ");

  const mark = (img: HTMLImageElement, names: readonly string[]) => {
    const problem = names.map((name) => failed.get(name)).find((message) => message !== undefined);
    const state =
      names.length === 0
        ? undefined
        : problem !== undefined || names.some((name) => name.startsWith("grok-failed-"))
          ? "failed"
          : names.some((name) => name.startsWith("grok-waiting-"))
            ? "waiting"
            : "generating";
    if (state === undefined) {
      if (img.hasAttribute(MARK)) {
        img.removeAttribute(MARK);
        img.removeAttribute("title");
      }
      return;
    }
    if (img.getAttribute(MARK) !== state) img.setAttribute(MARK, state);
    const title =
      problem ??
      (state === "generating"
        ? "grok-image: generating…"
        : state === "failed"
          ? "grok-image: the generation failed"
          : "grok-image: not generated");
    if (img.title !== title) img.title = title;
  };

  const scan = () => {
    const fresh: string[] = [];
    for (const element of document.querySelectorAll<HTMLImageElement | HTMLSourceElement>("img, source")) {
      const shown: string[] = [];
      for (const attribute of ["src", "srcset"]) {
        const value = element.getAttribute(attribute);
        if (!value || !NAME.test(value)) continue;
        const next = attribute === "srcset" ? rewriteSrcset(value) : rewriteUrl(value);
        if (next !== value) {
          const swap = swaps.get(NAME.exec(value)?.[0] ?? "");
          element.setAttribute(attribute, next);
          // An <img> sized for the waiting image's shape takes the real image's shape.
          if (swap && reshaped(swap) && element instanceof HTMLImageElement && attribute === "src") {
            const width = Number(element.getAttribute("width"));
            if (width > 0 && element.hasAttribute("height")) {
              element.setAttribute("height", String(Math.round((width * swap.height) / swap.width)));
            }
          }
        }
        shown.push(...(next.match(NAMES) ?? []));
      }
      if (element instanceof HTMLImageElement) mark(element, shown);
      for (const name of shown) {
        if (asked.has(name)) continue;
        asked.add(name);
        fresh.push(name);
      }
    }
    if (fresh.length > 0) hot.send(HELLO, { names: fresh } satisfies HelloPayload);
  };

  let queued = false;
  const schedule = () => {
    if (queued) return;
    queued = true;
    queueMicrotask(() => {
      queued = false;
      scan();
    });
  };

  hot.on(READY, (data: ReadyPayload) => {
    for (const swap of data.swaps) {
      swaps.set(swap.name, swap);
      failed.delete(swap.name);
    }
    scan();
  });
  hot.on(FAILED, (data: FailedPayload) => {
    for (const name of data.names) failed.set(name, data.message);
    scan();
  });
  // After a dev-server restart, ask again: the new server knows what finished meanwhile.
  hot.on("vite:ws:connect", () => {
    asked.clear();
    scan();
  });
  new MutationObserver(schedule).observe(document.documentElement, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ["src", "srcset"],
  });
  scan();
}
