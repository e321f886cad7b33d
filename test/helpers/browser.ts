/*
 * Headless Chromium for end-to-end tests: the system's Debian `chromium` driven by playwright-core (which downloads
 * no browser of its own). Shared by the Vite and Astro suites.
 *
 *   const browserReady = requireBrowser("vite-vanilla page loads every image");
 *   it.skipIf(!browserReady)("...", async () => { const browser = await launchBrowser(); ... });
 */
import { existsSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";

export const CHROMIUM_PATH = "/usr/bin/chromium";

/** Flags for a container without a GPU, a user namespace sandbox or a network. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
];

/**
 * Whether the browser test named `testName` can run. Without Chromium, CI (`CI` set) fails loudly by throwing, so
 * a missing browser never passes as green; elsewhere the test is skipped with a message that names it.
 */
export function requireBrowser(testName: string): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  const message = `${CHROMIUM_PATH} is missing, so the browser test "${testName}" cannot run. Install it with: apt-get install chromium`;
  if (process.env.CI) throw new Error(message);
  process.stderr.write(`\n!!! SKIPPED: ${message}\n\n`);
  return false;
}

/** Launches headless Chromium. Close it in `afterAll` or a `finally`. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

/** Counts the page's main-frame navigations (a swap in place must cause none). */
export function countNavigations(page: Page): () => number {
  let count = 0;
  page.on("framenavigated", (frame) => {
    if (frame === page.mainFrame()) count++;
  });
  return () => count;
}
