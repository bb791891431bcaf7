import { type DynamicModule, Module } from '@nestjs/common';
import { eventUserId, SessionModule, SessionStore } from '@app/session';
import { ProcessLiveness, sessionOptionsFromEnv } from '@app/config';
import { RedisStreamsServer } from '@app/streams';
import type { RedisOptions } from 'ioredis';
import { ConsumerShutdown } from './consumer-shutdown';
import { ConsumerState } from './health/consumer-state';
import { WorkerHttpController } from './health/worker-http.controller';
import { WorkerProbesController } from './health/worker-probes.controller';
import { RedisClock } from './health/redis-clock';
import { WorkerMetrics } from './health/worker-metrics';
import { PartitionRepair } from './projections/partition-repair.service';
import { SessionEventsController } from './projections/session-events.controller';
import { SessionLimitService } from './projections/session-limit.service';
import { SessionProjections } from './projections/session-projections';
import { ExpirySweeper } from './sweeps/expiry-sweeper.service';
import { WORKER_CONFIG, type WorkerConfig } from './worker.config';
import { PROJECTIONS_GROUP, WORKER_STREAMS_SERVER } from './worker.constants';

/** ioredis options equivalent to a redis:// or rediss:// URL (so more options can be added). */
export function redisOptionsFromUrl(url: string): RedisOptions {
  const parsed = new URL(url);
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  return {
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : 6379,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: Number.isInteger(db) ? db : 0,
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
  };
}

/**
 * Many handlers run at once: auto-pipelining coalesces their commands into fewer writes. Not on
 * Redis Cluster: ioredis batches commands of different slots of one node into one pipeline, and
 * when the node loses those slots (fail-over, resharding) each gets its own MOVED answer, which
 * ioredis follows only when all answers of the batch are identical; the rest reach the caller as
 * errors (failed handlers, acks left to the claim). Single commands follow MOVED.
 */
function autoPipelining(config: WorkerConfig): { enableAutoPipelining: boolean } {
  return { enableAutoPipelining: !config.redisClusterNodes };
}

/** The consumer of every partition stream: events in order per user, at least once. */
function createStreamsServer(
  config: WorkerConfig,
  store: SessionStore,
  repair: PartitionRepair,
  metrics: WorkerMetrics,
): RedisStreamsServer {
  return new RedisStreamsServer({
    // Acks of many concurrent handlers are coalesced into fewer writes (standalone only: see
    // autoPipelining()).
    connection: config.redisClusterNodes
      ? { cluster: { nodes: config.redisClusterNodes } }
      : { ...redisOptionsFromUrl(config.redisUrl), ...autoPipelining(config) },
    streams: store.eventStreams(),
    group: PROJECTIONS_GROUP,
    consumer: config.consumerName,
    concurrency: config.concurrency,
    claimIdleMs: config.claimIdleMs,
    claimIntervalMs: Math.floor(config.claimIdleMs / 3),
    maxDeliveries: config.maxDeliveries,
    deadLetterStream: (stream) => store.keys.deadLetters(stream),
    // Handlers get most of the bound; the rest is for closing connections (see main.ts).
    shutdownTimeoutMs: Math.floor(config.shutdownTimeoutMs * 0.75),
    // A new group replays the retained history, so projections are built from scratch.
    startId: '0',
    // Long and compact (storage format 2) events alike: one user's events one at a time.
    orderingKey: (data) => eventUserId(data),
    handlerTimeoutMs: config.handlerTimeoutMs,
    // An event type this release does not know came from a newer one: kept for a replay.
    unhandledPatterns: 'dead-letter',
    // Events lost to trimming: rebuild what they changed from the session keys.
    onRetentionGap: async (gap) => {
      await repair.schedule(gap.partition);
      metrics.repaired(gap.partition);
    },
  });
}

@Module({})
export class WorkerModule {
  static forConfig(config: WorkerConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        SessionModule.forRoot({
          ...sessionOptionsFromEnv(config, autoPipelining(config)),
          // The worker validates no tokens: nothing to cache.
          cache: { enabled: false },
        }),
      ],
      controllers: [SessionEventsController, WorkerHttpController, WorkerProbesController],
      providers: [
        // In the root module: its destroy hook runs first, so readiness is 503 from SIGTERM on.
        { provide: ProcessLiveness, useFactory: () => new ProcessLiveness() },
        { provide: WORKER_CONFIG, useValue: config },
        {
          provide: WORKER_STREAMS_SERVER,
          useFactory: createStreamsServer,
          inject: [WORKER_CONFIG, SessionStore, PartitionRepair, WorkerMetrics],
        },
        ConsumerState,
        ConsumerShutdown,
        WorkerMetrics,
        RedisClock,
        PartitionRepair,
        SessionLimitService,
        SessionProjections,
        ExpirySweeper,
      ],
    };
  }
}
