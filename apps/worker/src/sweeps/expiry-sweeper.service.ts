import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Queue, Worker } from 'bullmq';
import { Cluster, Redis } from 'ioredis';
import { SessionIndex, type SweepOutcome } from '@app/session';
import { WorkerMetrics } from '../health/worker-metrics';
import { WORKER_CONFIG, type WorkerConfig } from '../worker.config';

export const SWEEP_QUEUE = 'expiry-sweep';
export const SWEEP_SCHEDULER_ID = 'expiry-sweep';

export interface SweepReport extends Record<SweepOutcome, number> {
  partitions: number;
  durationMs: number;
}

/**
 * Expiry sweeps as a BullMQ job scheduler shared by every worker replica: the scheduler is
 * upserted only when its interval changed (not on every boot), and the queue's global concurrency
 * of 1 means exactly one sweep runs at a time across all replicas. BullMQ jobs are at-least-once
 * (a stalled job runs again), which is fine: a sweep is idempotent and bounded per partition.
 */
@Injectable()
export class ExpirySweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('ExpirySweeper');
  private queue?: Queue;
  private worker?: Worker;
  private readonly connections: (Redis | Cluster)[] = [];

  constructor(
    private readonly index: SessionIndex,
    private readonly metrics: WorkerMetrics,
    @Inject(WORKER_CONFIG) private readonly config: WorkerConfig,
  ) {}

  /** BullMQ wants its own connections with no retry limit, and (for Cluster) a hash-tagged prefix. */
  private connection(): Redis | Cluster {
    const redis = this.config.redisClusterNodes
      ? new Cluster(this.config.redisClusterNodes, { redisOptions: { maxRetriesPerRequest: null } })
      : new Redis(this.config.redisUrl, { maxRetriesPerRequest: null });
    redis.on('error', (error: Error) => this.logger.debug(`BullMQ connection: ${error.message}`));
    this.connections.push(redis);
    return redis;
  }

  private get prefix(): string {
    return `{${this.config.sessionPrefix}:bull}`;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.queue = new Queue(SWEEP_QUEUE, { connection: this.connection(), prefix: this.prefix });
    // Without a listener BullMQ prints these raw on stderr (e.g. UNBLOCKED during a fail-over).
    this.queue.on('error', (error) => this.logger.warn(`Sweep queue: ${error.message}`));
    await this.queue.setGlobalConcurrency(1);
    const every = this.config.sweepIntervalSeconds * 1000;
    const existing = await this.queue.getJobScheduler(SWEEP_SCHEDULER_ID);
    if (existing?.every !== every) {
      await this.queue.upsertJobScheduler(
        SWEEP_SCHEDULER_ID,
        { every },
        {
          name: 'sweep',
          opts: { removeOnComplete: 100, removeOnFail: 100 },
        },
      );
      this.logger.log(`Expiry sweep scheduled every ${this.config.sweepIntervalSeconds} s`);
    }
    this.worker = new Worker(SWEEP_QUEUE, () => this.sweep(), {
      connection: this.connection(),
      prefix: this.prefix,
      concurrency: 1,
    });
    this.worker.on('failed', (_job, error) => this.logger.warn(`Sweep failed: ${error.message}`));
    this.worker.on('error', (error) => this.logger.warn(`Sweep worker: ${error.message}`));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.worker?.close();
    await this.queue?.close();
    for (const redis of this.connections) redis.disconnect();
  }

  /** One sweep over every partition; safe to run twice or concurrently with itself. */
  async sweep(): Promise<SweepReport> {
    const started = Date.now();
    const report: SweepReport = {
      alive: 0,
      expired: 0,
      absent: 0,
      partitions: this.config.streamPartitions,
      durationMs: 0,
    };
    let maxLag = 0;
    for (let partition = 0; partition < this.config.streamPartitions; partition++) {
      maxLag = Math.max(maxLag, await this.index.sweepLagMs(partition));
      const counts = await this.index.sweepPartition(partition, this.config.sweepBatch);
      report.alive += counts.alive;
      report.expired += counts.expired;
      report.absent += counts.absent;
    }
    report.durationMs = Date.now() - started;
    this.metrics.swept(report, maxLag);
    return report;
  }
}
