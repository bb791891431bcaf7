/**
 * Polling helpers for tests that wait on another process or on Redis: no fixed sleeps, a bounded
 * wait, and an error that shows the last value seen.
 */

/** Reads until `done(value)` holds; returns that value. */
export async function eventually<T>(
  read: () => T | Promise<T>,
  done: (value: T) => boolean,
  { timeoutMs = 10_000, intervalMs = 10 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`not reached in ${timeoutMs} ms; last value ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Waits until `check()` is true; returns how long it took (ms). */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  intervalMs = 5,
): Promise<number> {
  const started = Date.now();
  await eventually(check, (ok) => ok, { timeoutMs, intervalMs });
  return Date.now() - started;
}
