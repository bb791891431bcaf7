/** The worker's projection-lag histogram (Prometheus text), as cumulative buckets. */
const BUCKET = /session_worker_projection_lag_seconds_bucket\{le="([^"]+)"\} (\d+)/g;

export type Buckets = Map<number, number>;

export function lagBuckets(metrics: string): Buckets {
  const buckets: Buckets = new Map();
  for (const m of metrics.matchAll(BUCKET))
    buckets.set(m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2]));
  return buckets;
}

/** Observations made between two scrapes. */
export function difference(after: Buckets, before: Buckets): Buckets {
  const diff: Buckets = new Map();
  for (const [le, n] of after) diff.set(le, n - (before.get(le) ?? 0));
  return diff;
}

/** Quantile by linear interpolation inside the bucket, in seconds. */
export function quantile(buckets: Buckets, q: number): number {
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted[sorted.length - 1]?.[1] ?? 0;
  const target = q * total;
  let previous = { le: 0, count: 0 };
  for (const [le, count] of sorted) {
    if (count >= target) {
      if (le === Infinity) return previous.le;
      const share =
        count === previous.count ? 1 : (target - previous.count) / (count - previous.count);
      return previous.le + share * (le - previous.le);
    }
    previous = { le, count };
  }
  return NaN;
}

export function observations(buckets: Buckets): number {
  return buckets.get(Infinity) ?? 0;
}
