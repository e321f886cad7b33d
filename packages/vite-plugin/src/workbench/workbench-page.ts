import { escapeHtml } from "../shared/escape-html.js";

/** Where the dev server serves the workbench (SPEC sections 8 and 11). */
export const WORKBENCH_PATH = "/__grok-image/";

/**
 * The workbench page: a shell that carries the server's token and loads the workbench script, which renders the
 * state and keeps it live. `?embed=toolbar` is the Astro Dev Toolbar's view of it (the current page first).
 */
export function renderWorkbenchPage(token: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="grok-image-token" content="${escapeHtml(token)}">
<title>grok-image workbench</title>
<style>
:root{color-scheme:light dark;--fg:#1d2330;--muted:#5b6475;--line:#d9dde5;--card:#fff;--bg:#f4f6f9;--accent:#5b4bdb;
--ok:#1f7a3d;--okbg:#dcf5e3;--warn:#8a5a00;--warnbg:#fff1c9;--bad:#a4262c;--badbg:#fde2e1}
@media (prefers-color-scheme:dark){:root{--fg:#e6e8ee;--muted:#9aa3b5;--line:#343a48;--card:#1b1f29;--bg:#12151c;
--okbg:#173d26;--ok:#7ee2a1;--warnbg:#3d3214;--warn:#f3cf73;--badbg:#4a1c1f;--bad:#ff9ea3}}
body{font:14px/1.45 system-ui,sans-serif;margin:0;background:var(--bg);color:var(--fg)}
main{max-width:1200px;margin:0 auto;padding:1.25rem}
h1{font-size:1.2rem;margin:0 0 .25rem}h2{font-size:1rem;margin:1.5rem 0 .5rem;color:var(--muted)}
.summary{color:var(--muted);margin:0}.summary strong{color:var(--fg)}
.directive{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:.75rem 1rem;margin:.6rem 0}
.directive header{display:flex;gap:.6rem;align-items:baseline;flex-wrap:wrap}
.prompt{font-weight:600}.where,.raw{margin:.2rem 0;color:var(--muted);font-size:12.5px}code{font-size:12px}
.badge{display:inline-block;padding:.05rem .5rem;border-radius:99px;font-size:12px;font-weight:600;background:var(--line)}
.cached .badge{background:var(--okbg);color:var(--ok)}
.queued .badge,.generating .badge,.missing .badge,.placeholder .badge,.refused .badge{background:var(--warnbg);color:var(--warn)}
.failed .badge,.invalid .badge{background:var(--badbg);color:var(--bad)}
.problem{background:var(--badbg);color:var(--bad);border-radius:6px;padding:.5rem .75rem;margin:.5rem 0;white-space:pre-wrap;font-size:12.5px}
.problem b{display:block;margin-top:.35rem}
.takes{display:flex;gap:.75rem;flex-wrap:wrap;margin:.6rem 0}
.take{margin:0;border:2px solid transparent;border-radius:8px;padding:4px;text-align:center}
.take.picked{border-color:var(--accent)}
.take img,.take .pending{display:block;height:150px;max-width:260px;border-radius:5px;background:var(--line);object-fit:contain}
.take .pending{width:150px;display:flex;align-items:center;justify-content:center;color:var(--muted);font-size:12px}
.take figcaption{font-size:12px;color:var(--muted);margin-top:.25rem;display:flex;gap:.4rem;justify-content:center;align-items:center}
button{font:inherit;font-size:12.5px;border:1px solid var(--line);background:var(--card);color:var(--fg);border-radius:6px;padding:.2rem .6rem;cursor:pointer}
button:hover{border-color:var(--accent)}button:disabled{opacity:.5;cursor:default}
.actions{display:flex;gap:.5rem;flex-wrap:wrap}
#notice{position:sticky;top:0;z-index:1}#notice p{margin:.5rem 0;padding:.5rem .75rem;border-radius:6px;background:var(--okbg);color:var(--ok)}
#notice p.error{background:var(--badbg);color:var(--bad)}
.empty{color:var(--muted)}
</style>
</head>
<body>
<main>
<h1>grok-image workbench</h1>
<p class="summary" id="summary">Loading…</p>
<div id="notice" role="status"></div>
<div id="directives"></div>
</main>
<script type="module" src="${WORKBENCH_PATH}app.js"></script>
</body>
</html>
`;
}
