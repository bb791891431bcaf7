import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Queue, Worker } from 'bullmq';
import { Cluster, Redis } from 'ioredis';
import { LogThrottle, settledWithin } from '@app/config';
import { SessionIndex, type SweepOutcome } from '@app/session';
import { WorkerMetrics } from '../health/worker-metrics';
import { WORKER_CONFIG, type WorkerConfig } from '../worker.config';

export const SWEEP_QUEUE = 'expiry-sweep';
export const SWEEP_SCHEDULER_ID = 'expiry-sweep';
/** How long closing BullMQ may take at shutdown (its share of WORKER_SHUTDOWN_TIMEOUT_MS). */
const SWEEPER_CLOSE_MS = 1000;
/** How long the start-up waits for the sweep schedule before going on without it. */
const SCHEDULE_WAIT_MS = 3000;

export interface SweepReport extends Record<SweepOutcome, number> {
  /** Revoke-all epochs dropped because no session they cover can still be alive. */
  epochsPruned: number;
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
  /** BullMQ retries its blocking fetch at once: while Redis refuses it, one line per 10 s. */
  private readonly throttle = new LogThrottle();
  private retryTimer?: NodeJS.Timeout;
  private closed = false;

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
    this.queue.on('error', (error) => this.warnThrottled('queue', error.message));
    this.worker = new Worker(SWEEP_QUEUE, () => this.sweep(), {
      connection: this.connection(),
      prefix: this.prefix,
      concurrency: 1,
    });
    this.worker.on('failed', (_job, error) => {
      this.metrics.sweepFailed();
      this.logger.warn(`Sweep failed: ${error.message}`);
    });
    // BullMQ retries its blocking fetch at once: while Redis refuses it, one line per 10 s.
    this.worker.on('error', (error) => this.warnThrottled('worker', error.message));
    // Normally done before the worker starts consuming; while Redis is away BullMQ's commands
    // wait for it, so the start-up goes on and this completes in the background.
    await settledWithin(this.schedule(), SCHEDULE_WAIT_MS);
  }

  /**
   * The queue's global concurrency and the job scheduler. Both are writes: while Redis refuses
   * them (out of memory, a fail-over) the worker still starts and consumes events, and this is
   * retried in the background. Sweeps are idempotent, so one running twice meanwhile is harmless.
   */
  private async schedule(attempt = 1): Promise<void> {
    const queue = this.queue;
    if (!queue || this.closed) return;
    try {
      await queue.setGlobalConcurrency(1);
      const every = this.config.sweepIntervalSeconds * 1000;
      const existing = await queue.getJobScheduler(SWEEP_SCHEDULER_ID);
      if (existing?.every !== every) {
        await queue.upsertJobScheduler(
          SWEEP_SCHEDULER_ID,
          { every },
          {
            name: 'sweep',
            opts: { removeOnComplete: 100, removeOnFail: 100 },
          },
        );
        this.logger.log(`Expiry sweep scheduled every ${this.config.sweepIntervalSeconds} s`);
      }
    } catch (error) {
      if (this.closed) return;
      const wait = Math.min(1000 * 2 ** (attempt - 1), 30_000);
      this.logger.warn(
        `Cannot schedule expiry sweeps yet (${(error as Error).message}); retrying in ${wait} ms`,
      );
      this.retryTimer = setTimeout(() => void this.schedule(attempt + 1), wait);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    // BullMQ's close waits for Redis, for ever while Redis is away. A sweep cut short is run
    // again (stalled job), and sweeps are idempotent.
    const closing = (async () => {
      await this.worker?.close();
      await this.queue?.close();
    })();
    if (!(await settledWithin(closing, SWEEPER_CLOSE_MS)))
      this.logger.warn(
        `Sweeps not closed within ${SWEEPER_CLOSE_MS} ms: dropping their connections`,
      );
    for (const redis of this.connections) redis.disconnect();
  }

  /** A BullMQ error, logged at most once per 10 s per source, with how many there were. */
  private warnThrottled(source: 'queue' | 'worker', message: string): void {
    const line = this.throttle.line(source, `Sweep ${source}: ${message}`);
    if (line) this.logger.warn(line);
  }

  /** One sweep over every partition; safe to run twice or concurrently with itself. */
  async sweep(): Promise<SweepReport> {
    const started = Date.now();
    const report: SweepReport = {
      alive: 0,
      expired: 0,
      absent: 0,
      epochsPruned: 0,
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
      report.epochsPruned += await this.index.pruneRevocationEpochs(partition);
    }
    report.durationMs = Date.now() - started;
    this.metrics.swept(report, maxLag);
    return report;
  }
}
