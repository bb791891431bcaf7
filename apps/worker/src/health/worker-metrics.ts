import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SessionEvent } from '@app/session';
import type { SweepReport } from '../sweeps/expiry-sweeper.service';

/**
 * The worker's Prometheus metrics. Counters are updated by the handlers and the sweeper; stream
 * lag, pending and dead-letter counts are read from Redis when /metrics is scraped.
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
  private readonly projectionLag = new Histogram({
    name: 'session_worker_projection_lag_seconds',
    help: 'Time from an event being written to its projection being updated',
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
    help: 'How overdue the oldest expiry entry was at the last sweep',
    registers: [this.registry],
  });
  private readonly sweepDuration = new Gauge({
    name: 'session_worker_sweep_duration_seconds',
    help: 'Duration of the last sweep',
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

  applied(event: SessionEvent): void {
    this.eventsApplied.inc({ type: event.type });
    this.projectionLag.observe(Math.max(0, Date.now() - event.at) / 1000);
  }

  swept(report: SweepReport, lagMs: number): void {
    for (const outcome of ['alive', 'expired', 'absent'] as const)
      this.sweptSessions.inc({ outcome }, report[outcome]);
    this.epochsPruned.inc(report.epochsPruned);
    this.sweepLag.set(lagMs / 1000);
    this.sweepDuration.set(report.durationMs / 1000);
  }
}
