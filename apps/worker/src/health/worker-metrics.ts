import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SessionEvent } from '@app/session';
import { DEAD_LETTER_REASONS, type RedisStreamsStats } from '@app/streams';
import type { SweepReport } from '../sweeps/expiry-sweeper.service';

type CountedStat = Exclude<
  keyof RedisStreamsStats,
  'deadLetteredByReason' | 'inFlight' | 'running' | 'stuck' | 'lastProgressAt'
>;

/** The transport's counters, as Prometheus counters (name, help) read at each scrape. */
const TRANSPORT_COUNTERS: [CountedStat, string, string][] = [
  ['processed', 'session_worker_handled_total', 'Stream entries handled and acknowledged'],
  ['failed', 'session_worker_handler_failures_total', 'Failed handler runs (each retry counts)'],
  ['claimed', 'session_worker_claimed_total', 'Entries taken over from idle consumers'],
  ['trimmed', 'session_worker_trimmed_total', 'Pending entries found trimmed, skipped'],
  ['ignored', 'session_worker_ignored_total', 'Entries without a handler, acknowledged'],
  [
    'timedOut',
    'session_worker_handler_timeouts_total',
    'Handler runs over WORKER_HANDLER_TIMEOUT_MS (their entry released or dead-lettered)',
  ],
  [
    'retentionGaps',
    'session_worker_retention_gaps_total',
    'Times a partition stream was found trimmed past entries the group had not read',
  ],
  [
    'missedEntries',
    'session_worker_missed_events_total',
    'Events trimmed before the group read them (their partitions were repaired)',
  ],
];

/**
 * The worker's Prometheus metrics. Counters are updated by the handlers and the sweeper, the
 * transport's are read from it at each scrape; stream lag, pending and dead-letter counts are
 * read from Redis when /metrics is scraped. Lags are measured on the Redis clock.
 */
@Injectable()
export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly eventsApplied = new Counter({
    name: 'session_worker_events_applied_total',
    help: 'Lifecycle events applied to the projections, by type',
    labelNames: ['type'],
    registers: [this.registry],
  });
  private readonly partitionEventsApplied = new Counter({
    name: 'session_worker_partition_events_applied_total',
    help: 'Lifecycle events applied to the projections, by partition',
    labelNames: ['partition'],
    registers: [this.registry],
  });
  private readonly projectionLag = new Histogram({
    name: 'session_worker_projection_lag_seconds',
    help: 'Time from an event being written (its stream entry id) to its projection being updated, on the Redis clock',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [this.registry],
  });
  private readonly sweptSessions = new Counter({
    name: 'session_worker_swept_total',
    help: 'Expiry-index entries handled by sweeps, by outcome',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  private readonly epochsPruned = new Counter({
    name: 'session_worker_revocation_epochs_pruned_total',
    help: 'Revoke-all epochs dropped by sweeps once no session they cover can be alive',
    registers: [this.registry],
  });
  private readonly sweepLag = new Gauge({
    name: 'session_worker_sweep_lag_seconds',
    help: 'How overdue the oldest expiry entry was at the last sweep (Redis clock)',
    registers: [this.registry],
  });
  private readonly sweepDuration = new Gauge({
    name: 'session_worker_sweep_duration_seconds',
    help: 'Duration of the last sweep',
    registers: [this.registry],
  });
  private readonly sweepFailures = new Counter({
    name: 'session_worker_sweep_failures_total',
    help: 'Expiry sweeps that failed (BullMQ runs the next one on schedule)',
    registers: [this.registry],
  });
  private readonly lastSweep = new Gauge({
    name: 'session_worker_last_successful_sweep_timestamp_seconds',
    help: 'When the last successful sweep of this replica ended (Unix time)',
    registers: [this.registry],
  });
  private readonly repairs = new Counter({
    name: 'session_worker_partition_repairs_total',
    help: 'Partitions whose projections were repaired from the session keys after a retention gap',
    labelNames: ['partition'],
    registers: [this.registry],
  });
  readonly streamLag = new Gauge({
    name: 'session_worker_stream_lag',
    help: 'Entries of a partition stream not yet read by the group',
    labelNames: ['stream'],
    registers: [this.registry],
  });
  readonly streamPending = new Gauge({
    name: 'session_worker_stream_pending',
    help: 'Entries read but not yet acknowledged by the group',
    labelNames: ['stream'],
    registers: [this.registry],
  });
  readonly deadLetters = new Gauge({
    name: 'session_worker_dead_letters',
    help: 'Entries in the dead-letter stream of a partition',
    labelNames: ['stream'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * Exposes the transport's counters (read at each scrape): dead letters by reason, failures,
   * claims, trims, timeouts, retention gaps, what is held, running and stuck, and how long ago
   * an entry last settled.
   */
  observeTransport(stats: () => RedisStreamsStats): void {
    const registers = [this.registry];
    for (const [stat, name, help] of TRANSPORT_COUNTERS) {
      let seen = 0;
      new Counter({
        name,
        help,
        registers,
        collect() {
          const value = stats()[stat];
          this.inc(Math.max(0, value - seen));
          seen = Math.max(seen, value);
        },
      });
    }
    const seenByReason = new Map<string, number>();
    new Counter({
      name: 'session_worker_dead_lettered_total',
      help: 'Entries moved to the dead-letter streams, by reason',
      labelNames: ['reason'],
      registers,
      collect() {
        const byReason = stats().deadLetteredByReason;
        for (const reason of DEAD_LETTER_REASONS) {
          const seen = seenByReason.get(reason) ?? 0;
          this.inc({ reason }, Math.max(0, byReason[reason] - seen));
          seenByReason.set(reason, Math.max(seen, byReason[reason]));
        }
      },
    });
    const gauges: ['inFlight' | 'running' | 'stuck', string, string][] = [
      [
        'inFlight',
        'session_worker_entries_held',
        'Entries held: queued, running or waiting for a retry',
      ],
      ['running', 'session_worker_handlers_running', 'Handlers running now'],
      ['stuck', 'session_worker_handlers_stuck', 'Handlers still running after their timeout'],
    ];
    for (const [stat, name, help] of gauges) {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(stats()[stat]);
        },
      });
    }
    new Gauge({
      name: 'session_worker_seconds_since_progress',
      help: 'Seconds since an entry was last acknowledged, skipped or dead-lettered',
      registers,
      collect() {
        this.set(Math.max(0, Date.now() - stats().lastProgressAt) / 1000);
      },
    });
  }

  /** An event applied; `redisNow` and the entry id's time are both Redis time. */
  applied(event: SessionEvent, partition: number, entryTime: number, redisNow: number): void {
    this.eventsApplied.inc({ type: event.type });
    this.partitionEventsApplied.inc({ partition: String(partition) });
    this.projectionLag.observe(Math.max(0, redisNow - entryTime) / 1000);
  }

  swept(report: SweepReport, lagMs: number): void {
    for (const outcome of ['alive', 'expired', 'absent'] as const)
      this.sweptSessions.inc({ outcome }, report[outcome]);
    this.epochsPruned.inc(report.epochsPruned);
    this.sweepLag.set(lagMs / 1000);
    this.sweepDuration.set(report.durationMs / 1000);
    this.lastSweep.set(Date.now() / 1000);
  }

  sweepFailed(): void {
    this.sweepFailures.inc();
  }

  repaired(partition: number): void {
    this.repairs.inc({ partition: String(partition) });
  }
}
