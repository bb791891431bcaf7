/**
 * Durations and counts of every scenario. `BENCH_SMOKE=1` shrinks them to about a second each (the
 * smoke test) and skips writing RESULTS.md; single values can be overridden by environment.
 */
export const SMOKE = process.env.BENCH_SMOKE === '1';

function setting(name: string, full: number, smoke: number): number {
  const given = process.env[name];
  if (given === undefined || given === '') return SMOKE ? smoke : full;
  const value = Number(given);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number >= 0`);
  return value;
}

export const settings = {
  /** Rounds of every measurement that is interleaved across variants (the median is kept). */
  rounds: setting('BENCH_ROUNDS', 5, 1),
  /** Calls made before measuring a library-level variant (JIT, connection, script cache). */
  warmupCalls: setting('BENCH_WARMUP_CALLS', 2000, 200),
  /** Library-level validation: milliseconds per variant and round (after a warm-up). */
  validationMs: setting('BENCH_VALIDATION_MS', 1000, 300),
  /** HTTP: seconds of load per path and round, after a warm-up of `httpWarmupSeconds`. */
  httpSeconds: setting('BENCH_HTTP_SECONDS', 4, 1),
  httpWarmupSeconds: setting('BENCH_HTTP_WARMUP_SECONDS', 3, 0),
  httpConnections: setting('BENCH_HTTP_CONNECTIONS', 50, 50),
  /** Seconds of load while a CPU profile of a server is taken (only when a target is missed). */
  profileSeconds: setting('BENCH_PROFILE_SECONDS', 5, 1),
  /** Creates: milliseconds per variant and round, and callers in flight. */
  createMs: setting('BENCH_CREATE_MS', 1000, 300),
  createConcurrency: setting('BENCH_CREATE_CONCURRENCY', 32, 32),
  /** Memory: live sessions created per store. */
  memorySessions: setting('BENCH_MEMORY_SESSIONS', 100_000, 1000),
  /** Revocation: sessions revoked (each measured on two other instances). */
  revocations: setting('BENCH_REVOCATIONS', 500, 20),
  /** Worker: backlog drained, then a steady create rate for some seconds. */
  workerBacklog: setting('BENCH_BACKLOG', 50_000, 1000),
  workerRate: setting('BENCH_RATE', 5000, 2000),
  workerSeconds: setting('BENCH_SECONDS', 10, 1),
  /** The worker's WORKER_CONCURRENCY (handlers in flight). */
  workerConcurrency: setting('BENCH_WORKER_CONCURRENCY', 64, 64),
};

/** Users the sessions belong to: `users` distinct ids, several sessions each. */
export function userOf(i: number, users = 25_000): string {
  return `user-${i % users}`;
}
