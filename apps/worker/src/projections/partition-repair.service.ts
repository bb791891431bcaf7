import { setTimeout as wait } from 'node:timers/promises';
import { Injectable, Logger } from '@nestjs/common';
import { SessionIndex, SessionStore } from '@app/session';
import { SessionLimitService } from './session-limit.service';

export interface PartitionRepairReport {
  partition: number;
  /** Stored sessions (re)indexed. */
  indexed: number;
  /** Stored sessions found revoked by a revoke-all (deleted by the index script). */
  gone: number;
  /** Index entries of sessions no longer stored and not yet due: dropped without an event. */
  dropped: number;
  /** Expiry entries of sessions no longer stored and already due: left to the sweep. */
  leftToSweep: number;
  durationMs: number;
}

/**
 * Repairs one partition's projections from the session keys, after events of it were lost to
 * trimming (a retention gap): what is stored is the truth the missed events led to.
 *
 * - every stored session is indexed (the index script deletes one a revoke-all covers instead);
 * - an index entry whose session is gone and whose expected expiry is still ahead was revoked,
 *   not expired: it is dropped without an event (the sweep would otherwise invent a
 *   `session.expired` for it); one already due may have expired and is left to the sweep;
 * - the session limit is enforced for every user seen.
 *
 * Idempotent and safe beside the live consumer: every step is one of the projection scripts,
 * each of which checks the session's current state.
 */
@Injectable()
export class PartitionRepair {
  private readonly logger = new Logger('PartitionRepair');
  /** Per partition: the repair running, and the one queued behind it (at most one). */
  private readonly running = new Map<number, Promise<PartitionRepairReport>>();
  private readonly queued = new Map<number, Promise<PartitionRepairReport>>();

  constructor(
    private readonly store: SessionStore,
    private readonly index: SessionIndex,
    private readonly limits: SessionLimitService,
  ) {}

  /**
   * Repairs a partition after a gap: gaps reported while its repair runs share one more run
   * after it (it may have read the keys before their change), never more.
   */
  schedule(partition: number): Promise<PartitionRepairReport> {
    const queued = this.queued.get(partition);
    if (queued) return queued;
    const before = this.running.get(partition)?.catch(() => undefined) ?? Promise.resolve();
    const next = before.then(() => {
      this.queued.delete(partition);
      const run = this.repairWithRetries(partition);
      this.running.set(partition, run);
      void run
        .catch(() => undefined)
        .finally(() => this.running.get(partition) === run && this.running.delete(partition));
      return run;
    });
    this.queued.set(partition, next);
    return next;
  }

  /**
   * `repair`, tried again while Redis fails (1 s doubling, `attempts` in all): the gap is reported
   * once, so a repair given up on is left to `worker:rebuild` (the error is logged).
   */
  async repairWithRetries(partition: number, attempts = 6): Promise<PartitionRepairReport> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.repair(partition);
      } catch (error) {
        if (attempt >= attempts) {
          this.logger.error(
            `Repair of partition ${partition} failed ${attempts} times; run worker:rebuild: ${String(error)}`,
          );
          throw error;
        }
        const delayMs = 1000 * 2 ** (attempt - 1);
        this.logger.warn(
          `Repair of partition ${partition} failed (${String(error)}); retrying in ${delayMs} ms`,
        );
        await wait(delayMs, undefined, { ref: false });
      }
    }
  }

  async repair(partition: number): Promise<PartitionRepairReport> {
    const started = Date.now();
    const report: PartitionRepairReport = {
      partition,
      indexed: 0,
      gone: 0,
      dropped: 0,
      leftToSweep: 0,
      durationMs: 0,
    };
    const users = new Set<string>();
    for (const { sessionId, userId } of await this.store.storedSessions(partition)) {
      if (await this.index.indexSession(sessionId, userId)) report.indexed++;
      else report.gone++;
      users.add(userId);
    }
    const now = await this.store.redisTime();
    for (const entry of await this.store.expiryEntries(partition)) {
      if (await this.store.sessionExists(entry.sessionId, partition)) continue;
      if (entry.expiresAt <= now) {
        report.leftToSweep++;
        continue;
      }
      await this.index.unindexSession(entry.sessionId, entry.userId);
      report.dropped++;
    }
    for (const userId of await this.store.indexedUsers(partition)) {
      for (const sessionId of await this.store.userSessionIds(userId)) {
        if (await this.store.sessionExists(sessionId, partition)) continue;
        // Not in the expiry index (else handled above): nothing for the sweep to end.
        if (await this.store.inExpiryIndex(partition, sessionId, userId)) continue;
        await this.index.unindexSession(sessionId, userId);
        report.dropped++;
      }
    }
    for (const userId of users) await this.limits.enforce(userId);
    report.durationMs = Date.now() - started;
    this.logger.warn(
      `Repaired partition ${partition} from the session keys: ${report.indexed} indexed, ` +
        `${report.gone} revoked by a revoke-all, ${report.dropped} stale entries dropped, ` +
        `${report.leftToSweep} due entries left to the sweep (${report.durationMs} ms)`,
    );
    return report;
  }
}
