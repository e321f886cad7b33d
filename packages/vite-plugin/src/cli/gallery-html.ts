import { formatUsd } from "../engine/format-event.js";
import { escapeHtml } from "../shared/escape-html.js";
import type { ManifestEntry } from "../types.js";

/** One image of a gallery card. */
export interface GalleryImage {
  /** `data:image/webp;base64,...`, or null when the original is damaged or missing. */
  thumbnail: string | null;
  width: number;
  height: number;
  format: string;
  bytes: number;
  sha256: string;
  /** Why there is no thumbnail. */
  problem?: string;
}

/** One manifest entry: a generation and its images. */
export interface GalleryCard extends Pick<ManifestEntry, "prompt" | "model" | "v" | "taskId" | "createdAt"> {
  key: string;
  /** Null for a model this version does not know the price of. */
  costUsd: number | null;
  images: GalleryImage[];
  /** `file:line` of each directive that uses the entry; empty means prune would remove it. */
  usedBy: string[];
}

export interface GalleryPage {
  cacheDir: string;
  generatedAt: string;
  cards: GalleryCard[];
}

const STYLE = `
:root { color-scheme: light dark; --bg: #f6f6f4; --card: #fff; --ink: #1d1d1f; --muted: #6b6b70; --line: #e3e3e0; --accent: #3b5bdb; --warn: #c2410c; }
@media (prefers-color-scheme: dark) { :root { --bg: #121214; --card: #1c1c1f; --ink: #ececef; --muted: #9a9aa2; --line: #2c2c31; --accent: #8ea2ff; --warn: #fb923c; } }
* { box-sizing: border-box; }
body { margin: 0; padding: 2rem clamp(1rem, 3vw, 3rem); background: var(--bg); color: var(--ink); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: .5rem 1.5rem; margin-bottom: 1.5rem; }
h1 { margin: 0; font-size: 1.4rem; }
header p { margin: 0; color: var(--muted); }
main { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 1.25rem; }
article { background: var(--card); border: 1px solid var(--line); border-radius: 10px; overflow: hidden; display: flex; flex-direction: column; }
.images { display: grid; grid-template-columns: repeat(auto-fit, minmax(120px, 1fr)); gap: 2px; background: var(--line); }
figure { margin: 0; position: relative; background: repeating-conic-gradient(var(--line) 0 25%, transparent 0 50%) 0 0 / 16px 16px; aspect-ratio: 4 / 3; display: grid; place-items: center; }
figure img { width: 100%; height: 100%; object-fit: contain; display: block; }
figcaption { position: absolute; right: 6px; bottom: 6px; background: #000a; color: #fff; font-size: 11px; padding: 1px 6px; border-radius: 4px; }
.damaged { color: var(--warn); padding: 1rem; text-align: center; font-weight: 600; }
.body { padding: .8rem 1rem 1rem; display: flex; flex-direction: column; gap: .5rem; }
.prompt { margin: 0; font-size: 15px; font-weight: 600; overflow-wrap: anywhere; }
dl { margin: 0; display: grid; grid-template-columns: auto 1fr; gap: .15rem .75rem; font-size: 12.5px; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
.badge { display: inline-block; font-size: 11px; padding: 0 6px; border-radius: 999px; border: 1px solid currentColor; }
.unused { color: var(--warn); }
.empty { color: var(--muted); font-size: 1.1rem; }
`;

function renderImage(image: GalleryImage, index: number, count: number): string {
  const label = `${index + 1}/${count} · ${image.width}×${image.height} ${image.format}`;
  if (!image.thumbnail) {
    return `<figure><div class="damaged">${escapeHtml(image.problem ?? "damaged")}</div><figcaption>${escapeHtml(label)}</figcaption></figure>`;
  }
  return `<figure><img src="${image.thumbnail}" alt="" loading="lazy" width="${image.width}" height="${image.height}"><figcaption>${escapeHtml(label)}</figcaption></figure>`;
}

function renderCard(card: GalleryCard): string {
  const tier = card.model.replace("grok-imagine/text-to-image-", "");
  const used =
    card.usedBy.length > 0
      ? card.usedBy.map((u) => `<code>${escapeHtml(u)}</code>`).join("<br>")
      : `<span class="badge unused">unused: grok-image prune removes it</span>`;
  const rows: Array<[string, string]> = [
    ["model", `${escapeHtml(card.model)} <span class="badge">${escapeHtml(tier)}</span>`],
    ["variant", card.v === null ? "—" : `<code>v=${escapeHtml(card.v)}</code>`],
    ["task id", `<code>${escapeHtml(card.taskId)}</code>`],
    [
      "date",
      `<time datetime="${escapeHtml(card.createdAt)}">${escapeHtml(card.createdAt.replace("T", " ").replace(/\.\d+Z$|Z$/, " UTC"))}</time>`,
    ],
    [
      "cost",
      card.costUsd === null
        ? "unknown model"
        : `${escapeHtml(formatUsd(card.costUsd))} for ${card.images.length} image${card.images.length === 1 ? "" : "s"}`,
    ],
    ["key", `<code>${escapeHtml(card.key.slice(0, 16))}</code>`],
    ["used by", used],
  ];
  return `<article id="g-${escapeHtml(card.key)}">
<div class="images">${card.images.map((image, i) => renderImage(image, i, card.images.length)).join("")}</div>
<div class="body"><p class="prompt">${escapeHtml(card.prompt)}</p>
<dl>${rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join("")}</dl></div>
</article>`;
}

/** A self-contained page: styles inline, thumbnails as data URIs, no script, no network. */
export function renderGallery(page: GalleryPage): string {
  const images = page.cards.reduce((sum, c) => sum + c.images.length, 0);
  const cost = page.cards.reduce((sum, c) => sum + (c.costUsd ?? 0), 0);
  const body =
    page.cards.length === 0
      ? `<p class="empty">The cache holds no images yet. Run <code>grok-image generate</code> or a build.</p>`
      : `<main>\n${page.cards.map(renderCard).join("\n")}\n</main>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="grok-image">
<title>grok-image gallery: ${page.cards.length} generations</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>grok-image gallery</h1>
<p>${page.cards.length} generation${page.cards.length === 1 ? "" : "s"} · ${images} image${images === 1 ? "" : "s"} · ${escapeHtml(formatUsd(cost))} spent</p>
<p><code>${escapeHtml(page.cacheDir)}</code> · ${escapeHtml(page.generatedAt)}</p></header>
${body}
</body>
</html>
`;
}
