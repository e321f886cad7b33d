/*
 * The workbench's browser side: renders the dev server's state (every directive, its status, its cost, its takes),
 * keeps it live by polling, and sends the actions with the server's token. Served as a plain script by the
 * workbench route, so it imports nothing at run time (types only).
 */
import type { WorkbenchDirective, WorkbenchState } from "../protocol.js";

const BASE = "/__grok-image/";
const POLL_MS = 1000;
const token = document.querySelector<HTMLMetaElement>('meta[name="grok-image-token"]')?.content ?? "";
/** In the Astro Dev Toolbar, the workbench sits in a frame over the page it describes. */
const embedded = new URLSearchParams(location.search).get("embed") === "toolbar";

const summary = document.querySelector("#summary") as HTMLElement;
const notice = document.querySelector("#notice") as HTMLElement;
const list = document.querySelector("#directives") as HTMLElement;

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};
const esc = (text: unknown) => String(text).replace(/[&<>"']/g, (c) => ESCAPES[c] as string);

function usd(value: number): string {
  if (value >= 1 || value === 0) return `$${value.toFixed(2)}`;
  return `$${value.toFixed(4).replace(/0{1,2}$/, "")}`;
}

function seconds(ms: number): string {
  return ms < 60_000
    ? `${(ms / 1000).toFixed(1)} s`
    : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

let state: WorkbenchState | undefined;
/** When the state was fetched, so elapsed times tick between polls. */
let fetchedAt = 0;
const byId = new Map<string, WorkbenchDirective>();

/** The status as the badge says it; the elapsed time is left to the ticker, so a card's HTML changes only with it. */
function badge(d: WorkbenchDirective, timed = true): string {
  const since = d.elapsedMs === undefined || !timed ? undefined : d.elapsedMs + (Date.now() - fetchedAt);
  switch (d.state) {
    case "generating":
      return since === undefined ? "generating" : `generating ${seconds(since)}`;
    case "queued":
      return since === undefined ? "queued" : `queued ${seconds(since)}`;
    case "refused":
      return "not generated";
    case "placeholder":
      return "placeholder";
    case "missing":
      return "not loaded yet";
    default:
      return d.state;
  }
}

/** What to do, by state, when the error does not say it. */
function advice(d: WorkbenchDirective): string {
  if (d.state === "refused")
    return "Nothing was paid. See the dev server's log: the budget, frozen mode or a missing key.";
  if (d.state === "placeholder") return "No API key, or placeholder mode: set MAXAPI_KEY to generate it.";
  return "";
}

function card(d: WorkbenchDirective): string {
  const where = d.shownFile
    ? `${d.shownFile}${d.line ? `:${d.line}:${d.column}` : ""}`
    : "loaded from outside the scanned files";
  const meta = [
    `<code>${esc(where)}</code>`,
    d.model ? esc(d.model) : "",
    d.n ? `${d.n} take${d.n === 1 ? "" : "s"}` : "",
    d.costUsd === undefined ? "" : `${usd(d.costUsd)} per generation`,
    d.taskId ? `task <code>${esc(d.taskId)}</code>` : "",
  ].filter(Boolean);
  const problem = d.error
    ? `<div class="problem">[${esc(d.error.code)}] ${esc(d.error.message)}${d.error.hint ? `<b>What to do: ${esc(d.error.hint)}</b>` : ""}</div>`
    : advice(d)
      ? `<div class="problem">${esc(advice(d))}</div>`
      : "";
  const count = d.n ?? d.takes.length;
  const takes = Array.from(
    { length: d.takes.length > 0 ? d.takes.length : d.state === "invalid" ? 0 : count },
    (_, i) => {
      const url = d.takes[i];
      const k = i + 1;
      const picked = k === (d.pick ?? 1);
      const image = url
        ? `<img src="${esc(url)}" alt="take ${k}: ${esc(d.prompt ?? "")}" loading="lazy">`
        : `<span class="pending">${d.state === "generating" || d.state === "queued" ? "generating…" : d.state === "failed" ? "failed" : "no image yet"}</span>`;
      const use =
        url && d.editable && !picked
          ? `<button data-action="pick" data-k="${k}">Use this take</button>`
          : picked && url && count > 1
            ? "<span>in use</span>"
            : "";
      return `<figure class="take${picked && url ? " picked" : ""}" data-take="${k}">${image}<figcaption>Take ${k} ${use}</figcaption></figure>`;
    },
  ).join("");
  const actions = [
    d.editable && d.costUsd !== undefined
      ? `<button data-action="reroll">Reroll · about ${usd(d.costUsd)}</button>`
      : "",
    d.state === "failed" && d.key
      ? // Moderation says the same prompt fails again: the button says so, without hiding it.
        `<button data-action="retry">${d.error?.code === "GROK_MODERATION" ? "Retry anyway" : "Retry"} · about ${usd(d.costUsd ?? 0)}</button>`
      : "",
  ].join("");
  return `<article class="directive ${esc(d.state)}" data-id="${esc(d.id)}">
<header><span class="badge">${esc(badge(d, false))}</span><span class="prompt">${esc(d.prompt ?? d.raw)}</span></header>
<p class="where">${meta.join(" · ")}</p>
<p class="raw"><code>${esc(d.raw)}</code></p>
${problem}${takes ? `<div class="takes">${takes}</div>` : ""}${actions ? `<div class="actions">${actions}</div>` : ""}
</article>`;
}

/** The URLs the page under the toolbar shows, decoded, to tell which directives it uses. */
function pageUrls(): string | undefined {
  if (!embedded) return undefined;
  try {
    const doc = window.parent.document;
    const values: string[] = [];
    for (const el of doc.querySelectorAll("img, source")) {
      for (const attribute of ["src", "srcset"]) {
        const value = el.getAttribute(attribute);
        if (!value) continue;
        values.push(value);
        try {
          values.push(decodeURIComponent(value));
        } catch {
          // Not percent-encoded text: the raw value is enough.
        }
      }
    }
    return values.join("\n");
  } catch {
    return undefined;
  }
}

const rendered = new Map<string, string>();

function section(title: string, directives: readonly WorkbenchDirective[], empty: string): string {
  return `<section data-section="${esc(title)}"><h2>${esc(title)} · ${directives.length}</h2>${
    directives.length === 0
      ? `<p class="empty">${esc(empty)}</p>`
      : directives.map(() => "<div></div>").join("")
  }</section>`;
}

function render(): void {
  if (!state) return;
  const { budget, directives } = state;
  const failed = directives.filter((d) => d.state === "failed").length;
  const running = directives.filter((d) => d.state === "generating" || d.state === "queued").length;
  summary.innerHTML = [
    `<strong>${directives.length}</strong> directive${directives.length === 1 ? "" : "s"}`,
    running ? `<strong>${running}</strong> generating` : "",
    failed ? `<strong>${failed}</strong> failed` : "",
    `dev budget: <strong>${usd(budget.spentUsd)}</strong> spent${budget.maxUsd === null ? "" : ` of ${usd(budget.maxUsd)}`} since the server started`,
    `mode ${esc(state.mode)}`,
  ]
    .filter(Boolean)
    .join(" · ");
  const urls = pageUrls();
  const onPage =
    urls === undefined ? [] : directives.filter((d) => d.shown.some((name) => urls.includes(name)));
  const groups: Array<[string, readonly WorkbenchDirective[], string]> = [];
  if (urls !== undefined) groups.push(["This page", onPage, "This page shows no grok: image."]);
  groups.push(["Site", directives, "No grok: directive in the project's files."]);
  // Rebuilt only when the sections change; each card only when its own HTML does (images are not reloaded).
  const layout = groups.map(([title, ds]) => `${title}:${ds.map((d) => d.id).join("|")}`).join("\n");
  if (list.dataset.layout !== layout) {
    list.dataset.layout = layout;
    list.innerHTML = groups.map(([title, ds, empty]) => section(title, ds, empty)).join("");
    rendered.clear();
  }
  byId.clear();
  groups.forEach(([title, ds]) => {
    const slots = list.querySelectorAll(
      `section[data-section="${CSS.escape(title)}"] > :not(h2):not(.empty)`,
    );
    ds.forEach((d, i) => {
      byId.set(d.id, d);
      const html = card(d);
      const slot = slots[i] as HTMLElement | undefined;
      const slotKey = `${title}\0${i}`;
      if (!slot || rendered.get(slotKey) === html) return;
      rendered.set(slotKey, html);
      slot.outerHTML = html;
    });
  });
}

async function poll(): Promise<void> {
  try {
    const response = await fetch(`${BASE}state`, { cache: "no-store" });
    if (response.ok) {
      state = (await response.json()) as WorkbenchState;
      fetchedAt = Date.now();
      render();
    }
  } catch {
    // The dev server is restarting: the next poll catches up.
  }
}

function say(text: string, error = false): void {
  notice.innerHTML = `<p class="${error ? "error" : ""}">${esc(text)}</p>`;
}

async function act(route: string, body: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${BASE}${route}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-grok-image-token": token },
    body: JSON.stringify(body),
  });
  const answer = (await response.json().catch(() => ({}))) as { message?: string; error?: string };
  if (response.ok) say(answer.message ?? "Done.");
  else say(answer.error ?? `The dev server answered ${response.status}.`, true);
  await poll();
}

list.addEventListener("click", (event) => {
  const button = (event.target as HTMLElement).closest<HTMLButtonElement>("button[data-action]");
  const d = byId.get(button?.closest<HTMLElement>("[data-id]")?.dataset.id ?? "");
  if (!button || !d) return;
  const at = { file: d.file, line: d.line, column: d.column, raw: d.raw };
  const action = button.dataset.action;
  if (action === "pick") void act("pick", { ...at, pick: Number(button.dataset.k) });
  if (action === "reroll") {
    const cost = usd(d.costUsd ?? 0);
    if (
      !confirm(
        `Reroll "${d.prompt}"?\n\nThis writes a new v= into ${d.shownFile}; the new generation costs about ${cost} when the page loads it.`,
      )
    )
      return;
    void act("reroll", { ...at, costUsd: d.costUsd });
  }
  if (action === "retry") void act("retry", { key: d.key });
});

setInterval(() => {
  // Elapsed times tick between polls.
  for (const badgeElement of list.querySelectorAll<HTMLElement>(".generating .badge, .queued .badge")) {
    const d = byId.get(badgeElement.closest<HTMLElement>("[data-id]")?.dataset.id ?? "");
    if (d) badgeElement.textContent = badge(d);
  }
}, 250);
setInterval(() => {
  if (document.visibilityState === "visible") void poll();
}, POLL_MS);
void poll();
