import { type DynamicModule, Module } from '@nestjs/common';
import { SessionModule, SessionService } from '@app/session';
import { RedisStreamsServer } from '@app/streams';
import { WorkerHttpController } from './health/worker-http.controller';
import { WorkerMetrics } from './health/worker-metrics';
import { SessionEventsController } from './projections/session-events.controller';
import { SessionLimitService } from './projections/session-limit.service';
import { ExpirySweeper } from './sweeps/expiry-sweeper.service';
import { WORKER_CONFIG, type WorkerConfig } from './worker.config';
import { PROJECTIONS_GROUP, WORKER_STREAMS_SERVER } from './worker.constants';

/** The consumer of every partition stream: events in order per user, at least once. */
function createStreamsServer(config: WorkerConfig, sessions: SessionService): RedisStreamsServer {
  return new RedisStreamsServer({
    connection: config.redisUrl,
    streams: sessions.keys.allEventStreams(),
    group: PROJECTIONS_GROUP,
    consumer: config.consumerName,
    concurrency: config.concurrency,
    claimIdleMs: config.claimIdleMs,
    claimIntervalMs: Math.floor(config.claimIdleMs / 3),
    maxDeliveries: config.maxDeliveries,
    deadLetterStream: (stream) => `${stream}:dead`,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    // A new group replays the retained history, so projections are built from scratch.
    startId: '0',
    orderingKey: (data) =>
      typeof data === 'object' && data !== null && 'userId' in data
        ? String(data.userId)
        : undefined,
  });
}

@Module({})
export class WorkerModule {
  static forConfig(config: WorkerConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        SessionModule.forRoot({
          redis: { url: config.redisUrl },
          keyPrefix: config.sessionPrefix,
          idleTtlSeconds: config.idleTtlSeconds,
          absoluteTtlSeconds: config.absoluteTtlSeconds,
          streamPartitions: config.streamPartitions,
          // The worker validates no tokens: nothing to cache.
          cache: { enabled: false },
        }),
      ],
      controllers: [SessionEventsController, WorkerHttpController],
      providers: [
        { provide: WORKER_CONFIG, useValue: config },
        {
          provide: WORKER_STREAMS_SERVER,
          useFactory: createStreamsServer,
          inject: [WORKER_CONFIG, SessionService],
        },
        WorkerMetrics,
        SessionLimitService,
        ExpirySweeper,
      ],
    };
  }
}
