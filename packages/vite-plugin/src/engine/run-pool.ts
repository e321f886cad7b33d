/**
 * Runs `worker` over `items` with at most `limit` in flight, in input order of start. Every item runs even when
 * another fails: one bad prompt must not cancel paid work that is already in flight for the others.
 */
export async function runPool<T>(
  items: readonly T[],
  limit: number,
  worker: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await worker(item);
    }
  });
  await Promise.all(lanes);
}
