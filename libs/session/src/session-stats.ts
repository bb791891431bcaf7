/** Upper bounds (ms) of the propagation-delay histogram buckets. */
export const PROPAGATION_BUCKETS_MS = [
  0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000,
] as const;

export type SubscriberState = 'connecting' | 'subscribed' | 'down' | 'stopped';

export interface SessionStatsSnapshot {
  l1: {
    enabled: boolean;
    hits: number;
    misses: number;
    evictions: number;
    entries: number;
    bytes: number;
  };
  invalidations: { received: number; malformed: number };
  subscriber: { state: SubscriberState; resubscribes: number; pingFailures: number };
  /** Delay from the change in Redis (Redis clock) to receipt here, as a cumulative histogram. */
  propagationDelay: {
    bucketsMs: readonly number[];
    counts: number[];
    count: number;
    sumMs: number;
    maxMs: number;
  };
  backgroundRefreshes: { ok: number; dropped: number; failed: number };
}

/** Counters of the local cache and the invalidation subscriber, read by metrics exporters. */
export class SessionStats {
  hits = 0;
  misses = 0;
  evictions = 0;
  received = 0;
  malformed = 0;
  resubscribes = 0;
  pingFailures = 0;
  refreshOk = 0;
  refreshDropped = 0;
  refreshFailed = 0;
  subscriberState: SubscriberState = 'connecting';
  private readonly delayCounts = PROPAGATION_BUCKETS_MS.map(() => 0);
  private delayCount = 0;
  private delaySum = 0;
  private delayMax = 0;

  recordDelay(ms: number): void {
    const delay = Math.max(0, ms);
    this.delayCount++;
    this.delaySum += delay;
    this.delayMax = Math.max(this.delayMax, delay);
    PROPAGATION_BUCKETS_MS.forEach((bound, i) => {
      if (delay <= bound) this.delayCounts[i]++;
    });
  }

  snapshot(l1: { enabled: boolean; entries: number; bytes: number }): SessionStatsSnapshot {
    return {
      l1: { ...l1, hits: this.hits, misses: this.misses, evictions: this.evictions },
      invalidations: { received: this.received, malformed: this.malformed },
      subscriber: {
        state: this.subscriberState,
        resubscribes: this.resubscribes,
        pingFailures: this.pingFailures,
      },
      propagationDelay: {
        bucketsMs: PROPAGATION_BUCKETS_MS,
        counts: [...this.delayCounts],
        count: this.delayCount,
        sumMs: this.delaySum,
        maxMs: this.delayMax,
      },
      backgroundRefreshes: {
        ok: this.refreshOk,
        dropped: this.refreshDropped,
        failed: this.refreshFailed,
      },
    };
  }
}
