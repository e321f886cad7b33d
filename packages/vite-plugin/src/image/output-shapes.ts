import type { Directive, OriginalRecord, Transform } from "../types.js";

/*
 * The files behind `as=srcset` and `as=picture`: one transform per format and width, every one derived from the one
 * cached original (never a new generation), with widths above the original's clamped instead of upscaled.
 */

/**
 * The transform with its box shrunk, keeping its aspect ratio, until it fits inside the original: sharp never
 * enlarges, so a larger box would only name a different file for the same pixels (or, for a cover crop, change the
 * aspect ratio). `contain`, `inside` and `outside` boxes are left alone: their output already never exceeds it.
 */
export function clampTransform(
  transform: Transform,
  original: Pick<OriginalRecord, "width" | "height">,
): Transform {
  const { w, h } = transform;
  if (w === null && h === null) return transform;
  if (w !== null && h === null) return w <= original.width ? transform : { ...transform, w: original.width };
  if (w === null && h !== null)
    return h <= original.height ? transform : { ...transform, h: original.height };
  const fit = transform.fit ?? "cover";
  if (fit !== "cover" && fit !== "fill") return transform;
  const shrink = Math.min(1, original.width / (w as number), original.height / (h as number));
  if (shrink === 1) return transform;
  return {
    ...transform,
    w: Math.max(1, Math.round((w as number) * shrink)),
    h: Math.max(1, Math.round((h as number) * shrink)),
  };
}

/**
 * Every transform an `as=srcset|picture` directive ships, formats in the order written, widths ascending. With `h`,
 * the largest width and `h` set the aspect ratio, and each smaller width keeps it (one crop at several sizes).
 */
export function outputTransforms(directive: Directive): Transform[] {
  const { transform, output } = directive;
  const largest = transform.w;
  return output.formats.flatMap((format) =>
    output.widths.map((w): Transform => {
      const h =
        transform.h === null || w === null || largest === null
          ? transform.h
          : Math.max(1, Math.round((transform.h * w) / largest));
      return { ...transform, w, h, format };
    }),
  );
}
