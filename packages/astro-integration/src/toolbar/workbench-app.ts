/*
 * The Astro Dev Toolbar app of grok-image (registered with `addDevToolbarApp`): the dev server's workbench,
 * framed over the page it describes. The framed workbench lists this page's directives first (it reads the page's
 * image URLs through the same-origin frame), then the site's; it carries its own token and keeps itself live. While
 * something generates or has failed, the app's icon says so.
 */

/** The slice of Astro's toolbar app API used here (its types live in `astro`, a dependency of the site). */
interface ToolbarApp extends EventTarget {
  toggleNotification(options: { state?: boolean; level?: "error" | "warning" | "info" }): void;
}

interface StateSummary {
  readonly directives: ReadonlyArray<{ readonly state: string }>;
}

const WORKBENCH = "/__grok-image/";
const POLL_MS = 2000;

async function notify(app: ToolbarApp): Promise<void> {
  try {
    const response = await fetch(`${WORKBENCH}state`, { cache: "no-store" });
    if (!response.ok) return;
    const { directives } = (await response.json()) as StateSummary;
    const failed = directives.some((d) => d.state === "failed" || d.state === "invalid");
    const busy = directives.some((d) => d.state === "generating" || d.state === "queued");
    app.toggleNotification({ state: failed || busy, level: failed ? "error" : "info" });
  } catch {
    // The dev server is restarting.
  }
}

export default {
  init(canvas: ShadowRoot, app: ToolbarApp) {
    const style = document.createElement("style");
    style.textContent = `astro-dev-toolbar-window{width:min(1100px,calc(100vw - 32px));height:min(720px,calc(100vh - 120px));padding:0;overflow:hidden}
iframe{border:0;width:100%;height:100%;border-radius:inherit;background:transparent}`;
    const frame = document.createElement("iframe");
    frame.title = "grok-image workbench";
    // Loaded when the app opens (Astro initializes every app with the page).
    frame.src = "about:blank";
    const panel = document.createElement("astro-dev-toolbar-window");
    panel.append(frame);
    canvas.append(style, panel);
    // Each opening shows the page as it is now (images swapped, directives edited); a closed app polls nothing.
    app.addEventListener("app-toggled", (event) => {
      const open = (event as CustomEvent<{ state: boolean }>).detail?.state === true;
      frame.src = open ? `${WORKBENCH}?embed=toolbar` : "about:blank";
    });
    void notify(app);
    setInterval(() => void notify(app), POLL_MS);
  },
};
