/**
 * A concurrency limit shared by every batch of one engine: a dev server or a multi-environment build may run
 * several `prepare()` calls at once, and together they must still keep at most `concurrency` tasks in flight.
 */
export type Limiter = <T>(job: () => Promise<T>) => Promise<T>;

export function createLimiter(concurrency: number): Limiter {
  let active = 0;
  const queue: Array<() => void> = [];
  const next = () => {
    if (active >= concurrency) return;
    const start = queue.shift();
    if (start) {
      active++;
      start();
    }
  };
  return <T>(job: () => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      queue.push(() => {
        job()
          .then(resolve, reject)
          .finally(() => {
            active--;
            next();
          });
      });
      next();
    });
}

/** Runs `worker` over `items`, at most `limit` at once; every item runs even when another fails. */
export async function runPool<T>(
  items: readonly T[],
  limit: number,
  worker: (item: T) => Promise<void>,
): Promise<void> {
  const limited = createLimiter(limit);
  await Promise.all(items.map((item) => limited(() => worker(item))));
}
