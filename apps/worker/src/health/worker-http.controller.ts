import { Controller, Get, Header, HttpCode, HttpStatus, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { SessionStore } from '@app/session';
import type { RedisStreamsServer } from '@app/streams';
import { WORKER_STREAMS_SERVER } from '../worker.constants';
import { ConsumerState } from './consumer-state';
import { WorkerMetrics } from './worker-metrics';

const PING_TIMEOUT_MS = 1000;

/**
 * /health (200 when Redis answers and the consumer is connected, else 503, with the consumer's
 * counters) and /metrics. The probes apart are in WorkerProbesController.
 */
@Controller()
export class WorkerHttpController {
  constructor(
    private readonly store: SessionStore,
    @Inject(WORKER_STREAMS_SERVER) private readonly server: RedisStreamsServer,
    private readonly metrics: WorkerMetrics,
    private readonly consumerState: ConsumerState,
  ) {}

  @Get('health')
  async health(@Res() response: Response): Promise<void> {
    const redis = await Promise.race([
      this.store.ping().then(
        () => 'up' as const,
        () => 'down' as const,
      ),
      new Promise<'down'>((resolve) => setTimeout(() => resolve('down'), PING_TIMEOUT_MS).unref()),
    ]);
    const consumer = this.consumerState.reading ? 'up' : 'down';
    const ok = redis === 'up' && consumer === 'up';
    response.status(ok ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE).json({
      status: ok ? 'ok' : 'error',
      details: {
        redis: { status: redis },
        consumer: { status: consumer },
        stats: this.server.stats(),
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
        if (partition.lag !== null)
          this.metrics.streamLag.set({ stream: partition.stream }, partition.lag);
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
}
