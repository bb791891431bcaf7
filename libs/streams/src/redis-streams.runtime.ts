import type { Logger } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import type { ResolvedServerOptions } from './redis-streams.options';

/**
 * What the server's parts share: its options, its logger, the explicit-close flag, the abort
 * signal every wait ends on, and the `commands` connection (a `Cluster` in cluster mode).
 */
export interface ServerRuntime {
  readonly config: ResolvedServerOptions;
  readonly logger: Pick<Logger, 'log' | 'warn' | 'error' | 'debug'>;
  /** Aborted by close(): retries and back-offs end at once. */
  readonly signal: AbortSignal;
  /** Redis Cluster mode. */
  readonly clustered: boolean;
  /** close() was called: start nothing new. */
  isClosed(): boolean;
  /** The command connection; throws before listen(). */
  commands(): Redis | Cluster;
}

/**
 * Why an entry was dead-lettered: its handler kept failing (`failed`), failed with an error the
 * handler marked permanent (`permanent`, e.g. an event schema this release does not read), could
 * not be decoded (`malformed`), has no handler (`unhandled`, with `unhandledPatterns:
 * 'dead-letter'`), arrived delivered more than `maxDeliveries` times (`over-delivered`), or timed
 * out on its last delivery (`timeout`).
 */
export type DeadLetterReason =
  'failed' | 'permanent' | 'malformed' | 'unhandled' | 'over-delivered' | 'timeout';

export const DEAD_LETTER_REASONS: readonly DeadLetterReason[] = [
  'failed',
  'permanent',
  'malformed',
  'unhandled',
  'over-delivered',
  'timeout',
];

/** Counters of a {@link RedisStreamsServer}, since it was created. */
export interface RedisStreamsStats {
  /** Entries whose handler succeeded (then acknowledged). */
  processed: number;
  /** Failed handler attempts (each retry counts). */
  failed: number;
  /** Entries moved to a dead-letter stream (failing, malformed or over-delivered). */
  deadLettered: number;
  /** `deadLettered` by reason. */
  deadLetteredByReason: Record<DeadLetterReason, number>;
  /**
   * Handler runs that exceeded `handlerTimeoutMs`: their entry was released (left pending, its
   * lease no longer renewed) for a claim, or dead-lettered on its last delivery.
   */
  timedOut: number;
  /**
   * Retention gaps found: a stream trimmed past entries the group had not read yet (see
   * `onRetentionGap`).
   */
  retentionGaps: number;
  /** Entries the group never read because they were trimmed first (summed over the gaps). */
  missedEntries: number;
  /** When an entry last settled (acknowledged, skipped or dead-lettered), epoch ms; start time before. */
  lastProgressAt: number;
  /** Entries taken over with XAUTOCLAIM and dispatched. */
  claimed: number;
  /** Pending entries found deleted from their stream (trimmed), acknowledged and skipped. */
  trimmed: number;
  /** Entries without a handler for their pattern, acknowledged and skipped. */
  ignored: number;
  /** Entries held by this consumer: queued or running. */
  inFlight: number;
  /** Handlers running now (never above `concurrency`). */
  running: number;
  /** Handlers still running after they timed out (their slot was given back). */
  stuck: number;
}

/** The counted part of {@link RedisStreamsStats}, shared by the parts that count. */
export type StreamsCounters = Omit<RedisStreamsStats, 'inFlight' | 'running' | 'stuck'>;

export function createCounters(now = Date.now()): StreamsCounters {
  const byReason = Object.fromEntries(DEAD_LETTER_REASONS.map((r) => [r, 0]));
  return {
    processed: 0,
    failed: 0,
    deadLettered: 0,
    deadLetteredByReason: byReason as Record<DeadLetterReason, number>,
    timedOut: 0,
    claimed: 0,
    trimmed: 0,
    ignored: 0,
    retentionGaps: 0,
    missedEntries: 0,
    lastProgressAt: now,
  };
}

/** An entry this consumer holds: queued, running, or waiting for a retry. */
export interface HeldEntry {
  stream: string;
  partition: number;
  id: string;
  deliveryCount: number;
  /** Another consumer took the entry over (or it left the PEL): do not start it. */
  lost: boolean;
}

export function heldKey(entry: { stream: string; id: string }): string {
  return `${entry.stream}\u0000${entry.id}`;
}
