/**
 * ISO-8601 UTC with 6 fractional digits and `Z`, like `2026-02-10T21:54:46.686768Z` (MAXAPI.md §4). The clock gives
 * milliseconds; the microseconds come from the monotonic clock and are forced to increase, so `updated_at` never
 * sorts before `created_at` within one millisecond.
 */
export function createTimestamper(now: () => number): () => string {
  let last = 0;
  return () => {
    let micros = Math.floor(now()) * 1000 + Number((process.hrtime.bigint() / 1000n) % 1000n);
    if (micros <= last) micros = last + 1;
    last = micros;
    const iso = new Date(Math.floor(micros / 1000)).toISOString();
    return `${iso.slice(0, -1)}${String(micros % 1000).padStart(3, "0")}Z`;
  };
}
