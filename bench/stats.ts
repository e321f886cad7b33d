/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * A 95% interval for `median(a) / median(b)` by the percentile bootstrap: both samples are drawn again with
 * replacement, `resamples` times, and the middle 95% of the ratios is kept. The draws come from a seeded generator,
 * so the same runs always give the same interval. It says how far the ratio of medians could move with runs this
 * noisy: a target inside the interval is not settled by the run.
 */
export function ratioInterval(
  a: readonly number[],
  b: readonly number[],
  resamples = 4000,
): { low: number; high: number } {
  const random = mulberry32(0x9e3779b9);
  const draw = (values: readonly number[]) =>
    Array.from({ length: values.length }, () => values[Math.floor(random() * values.length)] as number);
  const ratios = Array.from({ length: resamples }, () => median(draw(a)) / median(draw(b))).sort(
    (x, y) => x - y,
  );
  return {
    low: ratios[Math.floor(resamples * 0.025)] as number,
    high: ratios[Math.ceil(resamples * 0.975) - 1] as number,
  };
}

/**
 * The median of the ratios of runs made side by side (`a[i] / b[i]`): a drift of the machine's speed during the
 * run weighs on both runs of a pair, so it cancels here where it does not in the ratio of medians.
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): number {
  return median(a.map((value, i) => value / (b[i] as number)));
}

/** A small, fast, seedable generator (Tommy Ettinger's Mulberry32): repeatable draws, not cryptography. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
