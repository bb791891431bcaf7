import { performance } from 'node:perf_hooks';

/** Operations per second with one operation in flight (one core, latency-bound). */
export async function sequentialRate(
  op: () => Promise<unknown>,
  durationMs: number,
  warmup = 2000,
): Promise<number> {
  for (let i = 0; i < warmup; i++) await op(); // JIT, connection, script cache
  let done = 0;
  const started = performance.now();
  while (performance.now() - started < durationMs) {
    for (let i = 0; i < 100; i++) await op();
    done += 100;
  }
  return done / ((performance.now() - started) / 1000);
}

/** Operations per second with `concurrency` callers in flight, each awaiting its own. */
export async function concurrentRate(
  op: (i: number) => Promise<unknown>,
  concurrency: number,
  durationMs: number,
): Promise<number> {
  let next = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  const caller = async (): Promise<void> => {
    while (performance.now() < deadline) await op(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  return next / ((performance.now() - started) / 1000);
}

/** Runs `op(0..total-1)` with `concurrency` in flight. */
export async function runAll(
  total: number,
  concurrency: number,
  op: (i: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const caller = async (): Promise<void> => {
    while (next < total) await op(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
}
