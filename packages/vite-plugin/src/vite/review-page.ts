import type { DirectiveStatus } from "../engine/engine-types.js";
import { formatUsd } from "../engine/format-event.js";
import { escapeHtml } from "../shared/escape-html.js";

/** The dev review page's path (SPEC section 8). */
export const REVIEW_PATH = "/__grok-image/";

/** One row of the page: a directive's status plus the dev URLs of its images, when it has any. */
export interface ReviewRow {
  readonly status: DirectiveStatus;
  readonly imageUrls: readonly string[];
}

/** States that would cost money to turn into a real image. */
const UNPAID = new Set<DirectiveStatus["state"]>(["missing", "placeholder", "failed", "refused"]);

/** The cost of the misses, counting each generation once however many directives share it. */
function missCost(rows: readonly ReviewRow[]): number {
  const costs = new Map<string, number>();
  for (const { status } of rows) {
    if (UNPAID.has(status.state)) costs.set(status.generationKey, status.estimatedCostUsd);
  }
  return [...costs.values()].reduce((sum, cost) => sum + cost, 0);
}

function row({ status, imageUrls }: ReviewRow): string {
  const thumbs = imageUrls
    .map(
      (url) =>
        `<a href="${escapeHtml(url)}"><img src="${escapeHtml(url)}" alt="${escapeHtml(status.prompt)}" loading="lazy"></a>`,
    )
    .join("");
  const details = [
    `<code>${escapeHtml(status.raw)}</code>`,
    status.importer ? `in <code>${escapeHtml(status.importer)}</code>` : "",
    `${escapeHtml(status.model)}`,
    status.taskId ? `task <code>${escapeHtml(status.taskId)}</code>` : "",
    UNPAID.has(status.state) ? `would cost about ${escapeHtml(formatUsd(status.estimatedCostUsd))}` : "",
  ].filter(Boolean);
  const error = status.error ? `<pre class="error">${escapeHtml(status.error)}</pre>` : "";
  return `<tr class="${escapeHtml(status.state)}"><td><span class="state">${escapeHtml(status.state)}</span></td><td><p class="prompt">${escapeHtml(status.prompt)}</p><p>${details.join(" · ")}</p>${error}</td><td class="thumbs">${thumbs}</td></tr>`;
}

/** A self-contained HTML page (no scripts, no external files) listing every directive the dev server has seen. */
export function renderReviewPage(rows: readonly ReviewRow[]): string {
  const counts = new Map<string, number>();
  for (const { status } of rows) counts.set(status.state, (counts.get(status.state) ?? 0) + 1);
  const summary = [...counts].map(([state, count]) => `${count} ${escapeHtml(state)}`).join(" · ");
  const cost = missCost(rows);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>grok-image review</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;width:100%}td{border-top:1px solid #ddd;padding:.5rem;vertical-align:top}
.prompt{font-weight:600;margin:0 0 .25rem}p{margin:0}code{font-size:12px}
.state{display:inline-block;padding:.1rem .4rem;border-radius:4px;background:#eee}
.cached .state,.generated .state{background:#d7f5dd}.failed .state{background:#fdd}
.placeholder .state,.missing .state,.generating .state{background:#fff3c4}
.thumbs img{height:96px;margin:0 .25rem .25rem 0;border:1px solid #ccc}
.error{white-space:pre-wrap;color:#900;margin:.25rem 0 0}
</style>
</head>
<body>
<h1>grok-image: ${rows.length} directive${rows.length === 1 ? "" : "s"} seen by the dev server</h1>
<p>${summary || "No directive has been loaded yet: open a page that imports one."}</p>
<p>Generating the misses would cost about <strong>${escapeHtml(formatUsd(cost))}</strong>.</p>
<table>
${rows.map(row).join("\n")}
</table>
</body>
</html>
`;
}
