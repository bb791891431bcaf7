import type { RedisStreamsStats } from '@app/streams';
import { createCounters } from '@app/streams/redis-streams.runtime';
import { WorkerMetrics } from './worker-metrics';

function stats(overrides: Partial<RedisStreamsStats> = {}): RedisStreamsStats {
  return { ...createCounters(), inFlight: 0, running: 0, stuck: 0, ...overrides };
}

describe('WorkerMetrics', () => {
  it('exposes the transport counters as Prometheus counters that follow the stats at each scrape', async () => {
    const metrics = new WorkerMetrics();
    let current = stats({ failed: 3, claimed: 2 });
    metrics.observeTransport(() => current);
    let text = await metrics.registry.metrics();
    expect(text).toMatch(/session_worker_handler_failures_total 3\n/);
    expect(text).toMatch(/session_worker_claimed_total 2\n/);
    current = stats({
      failed: 5,
      claimed: 2,
      trimmed: 4,
      retentionGaps: 1,
      missedEntries: 53,
      inFlight: 7,
      stuck: 1,
      deadLetteredByReason: {
        ...createCounters().deadLetteredByReason,
        permanent: 64,
        unhandled: 1,
      },
    });
    text = await metrics.registry.metrics();
    expect(text).toMatch(/session_worker_handler_failures_total 5\n/);
    expect(text).toMatch(/session_worker_claimed_total 2\n/);
    expect(text).toMatch(/session_worker_trimmed_total 4\n/);
    expect(text).toMatch(/session_worker_retention_gaps_total 1\n/);
    expect(text).toMatch(/session_worker_missed_events_total 53\n/);
    expect(text).toMatch(/session_worker_dead_lettered_total\{reason="permanent"\} 64\n/);
    expect(text).toMatch(/session_worker_dead_lettered_total\{reason="unhandled"\} 1\n/);
    expect(text).toMatch(/session_worker_entries_held 7\n/);
    expect(text).toMatch(/session_worker_handlers_stuck 1\n/);
  });

  it('counts applied events per partition and measures their lag on the Redis clock', async () => {
    const metrics = new WorkerMetrics();
    const event = { type: 'session.expired', v: 1, at: 0, userId: 'u', sessionId: '3-x' } as const;
    // The worker's own clock may be anywhere: only the two Redis times count.
    metrics.applied(event, 3, 1_000_000, 1_000_020);
    metrics.applied(event, 3, 1_000_000, 1_003_000);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/session_worker_partition_events_applied_total\{partition="3"\} 2\n/);
    expect(text).toMatch(/session_worker_projection_lag_seconds_bucket\{le="0.025"\} 1\n/);
    expect(text).toMatch(/session_worker_projection_lag_seconds_bucket\{le="5"\} 2\n/);
  });

  it('records sweep failures and the time of the last successful sweep', async () => {
    const metrics = new WorkerMetrics();
    metrics.sweepFailed();
    const report = {
      alive: 0,
      expired: 1,
      absent: 0,
      epochsPruned: 0,
      partitions: 16,
      durationMs: 5,
    };
    metrics.swept(report, 0);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/session_worker_sweep_failures_total 1\n/);
    const at = Number(
      /^session_worker_last_successful_sweep_timestamp_seconds (\S+)$/m.exec(text)?.[1],
    );
    expect(at).toBeGreaterThan(1_600_000_000);
  });
});
