import { Controller, Get, Header, HttpCode, HttpStatus, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { SessionStore } from '@app/session';
import type { RedisStreamsServer } from '@app/streams';
import { WORKER_CONFIG, type WorkerConfig } from '../worker.config';
import { WORKER_STREAMS_SERVER } from '../worker.constants';
import { ConsumerState } from './consumer-state';
import { ProgressWatch } from './progress-watch';
import { WorkerMetrics } from './worker-metrics';

const PING_TIMEOUT_MS = 1000;

/**
 * /health and /metrics. /health: 503 when Redis does not answer, the consumer is not connected,
 * or events wait and none was settled for WORKER_PROGRESS_TIMEOUT_MS (a stuck worker a restart
 * may cure); `degraded` (still 200: a restart cures neither) when events wait in the dead-letter
 * streams or a retention gap was found. The probes apart are in WorkerProbesController.
 */
@Controller()
export class WorkerHttpController {
  private readonly progress: ProgressWatch;

  constructor(
    private readonly store: SessionStore,
    @Inject(WORKER_STREAMS_SERVER) private readonly server: RedisStreamsServer,
    private readonly metrics: WorkerMetrics,
    private readonly consumerState: ConsumerState,
    @Inject(WORKER_CONFIG) config: WorkerConfig,
  ) {
    metrics.observeTransport(() => server.stats());
    this.progress = new ProgressWatch(config.progressTimeoutMs);
  }

  @Get('health')
  async health(@Res() response: Response): Promise<void> {
    const redis = await withinPingTimeout(this.store.ping().then(() => 'up' as const));
    const consumer = this.consumerState.reading ? 'up' : 'down';
    const stats = this.server.stats();
    const backlog = redis === 'up' ? await withinPingTimeout(this.unreadEntries()) : 'down';
    const waiting = stats.inFlight > 0 || (typeof backlog === 'number' && backlog > 0);
    const progress = this.progress.check(waiting, stats.lastProgressAt);
    const deadLetters = redis === 'up' ? await withinPingTimeout(this.deadLetterCount()) : 'down';
    const ok = redis === 'up' && consumer === 'up' && progress.status === 'up';
    const degraded =
      (typeof deadLetters === 'number' && deadLetters > 0) || stats.retentionGaps > 0;
    response.status(ok ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE).json({
      status: ok ? (degraded ? 'degraded' : 'ok') : 'error',
      details: {
        redis: { status: redis },
        consumer: { status: consumer },
        progress,
        deadLetters: { count: typeof deadLetters === 'number' ? deadLetters : null },
        retentionGaps: { count: stats.retentionGaps, missedEvents: stats.missedEntries },
        stats,
      },
    });
  }

  @Get('metrics')
  @HttpCode(HttpStatus.OK)
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async metricsText(): Promise<string> {
    try {
      for (const partition of await this.server.lag()) {
        this.metrics.streamPending.set({ stream: partition.stream }, partition.pending);
        // Unknown (Redis cannot count past deleted entries): no sample rather than a stale one.
        if (partition.lag === null) this.metrics.streamLag.remove({ stream: partition.stream });
        else this.metrics.streamLag.set({ stream: partition.stream }, partition.lag);
        this.metrics.deadLetters.set(
          { stream: partition.stream },
          await this.store.deadLetterCount(partition.stream),
        );
      }
    } catch {
      // Redis down: serve the counters we have; /health says what is wrong.
    }
    return this.metrics.registry.metrics();
  }

  /** Entries of every partition not yet read by the group. */
  private async unreadEntries(): Promise<number> {
    const lags = await this.server.lag();
    return lags.reduce((sum, partition) => sum + (partition.lag ?? 0), 0);
  }

  private async deadLetterCount(): Promise<number> {
    const counts = await Promise.all(
      this.server.getStreams().map((stream) => this.store.deadLetterCount(stream)),
    );
    return counts.reduce((a, b) => a + b, 0);
  }
}

/** The answer, or 'down' when Redis does not give it within PING_TIMEOUT_MS. */
function withinPingTimeout<T>(work: Promise<T>): Promise<T | 'down'> {
  return Promise.race([
    work.catch(() => 'down' as const),
    new Promise<'down'>((resolve) => setTimeout(() => resolve('down'), PING_TIMEOUT_MS).unref()),
  ]);
}
