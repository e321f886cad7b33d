import path from "node:path";
import type { Connect } from "vite";
import { REVIEW_PATH, type ReviewRow, renderReviewPage } from "./review-page.js";

/** The dev URL Vite serves a file at: root-relative inside the root, `/@fs/` outside (see `server.fs.allow`). */
export function devUrl(file: string, root: string): string {
  const relative = path.relative(root, file);
  const inside = relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative);
  const posix = (inside ? relative : file).replaceAll("\\", "/");
  return inside ? `/${posix}` : `/@fs/${posix.replace(/^\//, "")}`;
}

/** Serves the review page at `/__grok-image/` (with or without the trailing slash), rebuilt on every request. */
export function reviewMiddleware(getRows: () => readonly ReviewRow[]): Connect.NextHandleFunction {
  return (req, res, next) => {
    const url = req.url?.split("?")[0];
    if (url !== REVIEW_PATH && url !== REVIEW_PATH.slice(0, -1)) return next();
    res.statusCode = 200;
    res.setHeader("Content-Type", "text/html; charset=utf-8");
    res.setHeader("Cache-Control", "no-store");
    res.end(renderReviewPage(getRows()));
  };
}
