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

/** Counters of a {@link RedisStreamsServer}, since it was created. */
export interface RedisStreamsStats {
  /** Entries whose handler succeeded (then acknowledged). */
  processed: number;
  /** Failed handler attempts (each retry counts). */
  failed: number;
  /** Entries moved to a dead-letter stream (failing, malformed or over-delivered). */
  deadLettered: number;
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
}

/** The counted part of {@link RedisStreamsStats}, shared by the parts that count. */
export type StreamsCounters = Omit<RedisStreamsStats, 'inFlight' | 'running'>;

export function createCounters(): StreamsCounters {
  return { processed: 0, failed: 0, deadLettered: 0, claimed: 0, trimmed: 0, ignored: 0 };
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
