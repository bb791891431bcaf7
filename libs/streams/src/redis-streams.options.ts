import { hostname } from 'node:os';
import type { Deserializer, Serializer } from '@nestjs/microservices';
import type { ClusterNode, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { isClusterConnection } from './redis-streams.cluster';
import {
  defaultDeadLetterStream,
  defaultHandlerRetryDelay,
  defaultRetryDelay,
  REDIS_STREAMS_DEFAULTS,
} from './redis-streams.constants';
import type { RedisStreamsConnectionRole } from './redis-streams.events';
import { RedisStreamsConfigError } from './redis-streams.errors';

/**
 * Redis Cluster: ioredis `Cluster` clients built from these startup nodes and options. The
 * server reads every hash slot holding configured streams with a blocking connection of its own
 * to the master serving it, and follows slot moves and fail-overs (see the README).
 */
export interface RedisStreamsClusterConnection {
  cluster: {
    /** Startup nodes (a few masters suffice; the topology is discovered), e.g. `[{ host, port }]`. */
    nodes: readonly ClusterNode[];
    /**
     * ioredis ClusterOptions. `redisOptions` (password, TLS, ...) apply to every node connection,
     * the server's blocking readers included. `lazyConnect` and `clusterRetryStrategy` are set by
     * the transport (see `retryAttempts` / `retryDelay`); `keyPrefix` is not supported.
     */
    options?: ClusterOptions;
  };
}

/**
 * How to reach Redis: a `redis://` URL, ioredis options, `{ cluster: { nodes, options? } }` for
 * Redis Cluster, or a factory. The transport owns (and closes) whatever the factory returns; the
 * factory must return a NEW standalone client on every call (the server's blocking reader needs a
 * connection of its own), preferably with `lazyConnect: true`. Factory clients are used as they
 * are: retry/timeout options below do not apply to them. Factories cannot make cluster clients.
 */
export type RedisStreamsConnection =
  | string
  | RedisOptions
  | RedisStreamsClusterConnection
  | ((role: RedisStreamsConnectionRole) => Redis);

/** Options shared by the server and the client. */
export interface RedisStreamsConnectionOptions {
  /** Default `redis://localhost:6379`. `keyPrefix` is not supported (stream names are full keys). */
  connection?: RedisStreamsConnection;
  /**
   * Reconnect attempts after a connection is lost (URL/options connections only). Default: the
   * server retries forever (a consumer should outlive a Redis restart), the client too (each
   * emit() still fails fast or within `timeoutMs` while disconnected).
   */
  retryAttempts?: number;
  /** Delay before reconnect attempt N (ms). Default 100 ms doubling up to 2 s. */
  retryDelay?: number | ((attempt: number) => number);
}

/** Options of {@link RedisStreamsServer}. */
export interface RedisStreamsServerOptions extends RedisStreamsConnectionOptions {
  /**
   * The partition streams to consume, read by one XREADGROUP (on Redis Cluster: one per hash
   * slot). The index of a stream in this list is the entry's `partition` in the context. A
   * function is called once, in `listen()`.
   */
  streams: readonly string[] | (() => readonly string[] | Promise<readonly string[]>);
  /** Consumer group name (created with MKSTREAM when missing). */
  group: string;
  /**
   * Consumer name in the group. It must be STABLE across restarts of the same instance (its
   * pending entries are re-read on start) and UNIQUE among live instances (two processes with one
   * name would share a pending list). Default: `os.hostname()`, which fits one process per host
   * or pod with a stable hostname (StatefulSet); set it explicitly otherwise (e.g. with a worker
   * index). Never derived from the pid: that would orphan the pending list on every restart.
   */
  consumer?: string;
  /** XREADGROUP / XAUTOCLAIM COUNT (per stream). Default 50. */
  batchSize?: number;
  /** XREADGROUP BLOCK in ms. Default 5000. Also bounds how fast a dead socket is noticed. */
  blockMs?: number;
  /** Maximum handlers running at once. Reads pause while this many entries are held. Default 16. */
  concurrency?: number;
  /**
   * XAUTOCLAIM min-idle-time (ms): pending entries idle longer than this are taken over from dead
   * consumers. Entries this consumer holds (running or queued) have their idle time reset every
   * `claimIntervalMs` (lease renewal), so it must exceed `claimIntervalMs` (ideally 3x or more),
   * not the slowest handler. Default 60000.
   */
  claimIdleMs?: number;
  /** How often to renew leases and run XAUTOCLAIM (ms). Default 10000. */
  claimIntervalMs?: number;
  /**
   * Deliveries (first delivery included) after which a failing entry is dead-lettered. An entry
   * that arrives with a larger delivery count (its consumers kept dying) is dead-lettered without
   * running the handler. Default 5.
   */
  maxDeliveries?: number;
  /**
   * Delay before retrying a failed handler in place (ms), given the delivery count that failed.
   * The entry's ordering key stays blocked meanwhile, so per-key order holds across failures.
   * Default 1 s doubling up to 30 s.
   */
  retryDelayMs?: number | ((deliveryCount: number) => number);
  /**
   * Dead-letter stream of a source stream. Default `${stream}:dead`. On Redis Cluster it must
   * hash to the slot of its source stream (the default keeps the `{tag}`): checked in listen().
   */
  deadLetterStream?: string | ((stream: string) => string);
  /**
   * Length backstop of each dead-letter stream (`MAXLEN ~` on its XADD), so a flood of poison
   * entries cannot fill Redis: the oldest dead letters go first. Default 10000; 0 = unbounded.
   */
  deadLetterMaxLen?: number;
  /** How long close() waits for running handlers (ms). Default 10000. */
  shutdownTimeoutMs?: number;
  /** Id the group starts from when it is created: '$' (new entries only, default) or '0' (history). */
  startId?: string;
  /**
   * Ordering key of an entry: entries with the same key are handled one at a time, in the order
   * they were read; entries with different keys (or no key) run in parallel. Default: no key.
   */
  orderingKey?: (data: unknown, pattern: string) => string | undefined;
  /**
   * Delete acknowledged entries with XACKDEL ... ACKED (Redis 8.2+: the entry goes once every
   * group has acknowledged it). Detected once at start; older servers keep plain XACK. Default
   * false (the producer trims the streams).
   */
  deleteAcked?: boolean;
  /** Deserializer of `{ pattern, data }` (Nest's IncomingRequestDeserializer by default). */
  deserializer?: Deserializer;
  /**
   * Longest a handler may run (ms); 0 = no limit. A handler still running then is left to
   * itself (its slot is given back, its result ignored) and its entry released: not
   * acknowledged, its lease no longer renewed, so a claim (by any consumer) takes it after
   * `claimIdleMs`; on its last delivery it is dead-lettered instead. Default 30000.
   */
  handlerTimeoutMs?: number;
  /**
   * Whether a handler's error is deterministic (retrying cannot help): such an entry is
   * dead-lettered at once (reason `permanent`) instead of being retried. Default: an error (or
   * Nest's `{ status, message }` error object) with `permanent: true`, as
   * {@link RedisStreamsPermanentError} has.
   */
  isPermanentFailure?: (error: unknown) => boolean;
  /**
   * An entry whose pattern has no handler: `ack` (acknowledge, count as `ignored`, log at debug)
   * or `dead-letter` (reason `unhandled`, to be replayed by a release that handles it). Default
   * `ack`.
   */
  unhandledPatterns?: 'ack' | 'dead-letter';
  /**
   * Called when a stream was trimmed past entries the group had not handled (a consumer down for
   * longer than the producer's retention): unread ones, checked at start and on every claim tick
   * (the group's read counter is corrected first, so its lag is right again), and pending ones
   * found deleted. Errors thrown are logged.
   */
  onRetentionGap?: (gap: RedisStreamsRetentionGap) => void | Promise<void>;
}

/** Entries of a stream trimmed before the group handled them (see `onRetentionGap`). */
export interface RedisStreamsRetentionGap {
  stream: string;
  partition: number;
  /**
   * `unread`: trimmed before the group read them; `pending`: read by a consumer that died, then
   * trimmed before anyone handled them (found by a re-read or a claim).
   */
  kind: 'unread' | 'pending';
  /** Entries never read; null when Redis could not tell (the group's read counter was unknown). */
  missed: number | null;
  /** The group's last delivered id when the gap was found ('' for `pending`). */
  lastDeliveredId: string;
  /** The oldest entry still in the stream ('' when empty, and for `pending`). */
  firstRetainedId: string;
}

/** Options of {@link RedisStreamsClient}. */
export interface RedisStreamsClientOptions extends RedisStreamsConnectionOptions {
  /** Fixed target stream. One of `stream` / `streamFor` is required. */
  stream?: string;
  /** Target stream of an event, e.g. a partition chosen from the payload. */
  streamFor?: (pattern: string, data: unknown) => string;
  /** Approximate trimming on XADD: `MAXLEN ~ maxLen`. Exclusive with `minId`. */
  maxLen?: number;
  /** Approximate trimming on XADD: `MINID ~ minId`, e.g. `() => `${Date.now() - week}-0``. */
  minId?: string | (() => string);
  /**
   * Bound of one emit(): waiting for a (re)connection and for the XADD reply (ms). There is no
   * offline queue: an emit while disconnected errors instead of piling up. Default 5000.
   */
  timeoutMs?: number;
  /** Serializer of `{ pattern, data }`; `data` of its result is JSON-encoded. */
  serializer?: Serializer;
}

export interface ResolvedServerOptions {
  group: string;
  consumer: string;
  batchSize: number;
  blockMs: number;
  concurrency: number;
  claimIdleMs: number;
  claimIntervalMs: number;
  maxDeliveries: number;
  retryDelayMs: (deliveryCount: number) => number;
  deadLetterStream: (stream: string) => string;
  deadLetterMaxLen: number;
  shutdownTimeoutMs: number;
  startId: string;
  orderingKey: ((data: unknown, pattern: string) => string | undefined) | undefined;
  deleteAcked: boolean;
  retryAttempts: number;
  retryDelay: (attempt: number) => number;
  handlerTimeoutMs: number;
  isPermanentFailure: (error: unknown) => boolean;
  unhandledPatterns: 'ack' | 'dead-letter';
  onRetentionGap: ((gap: RedisStreamsRetentionGap) => void | Promise<void>) | undefined;
}

/** The default `isPermanentFailure`: the error says `permanent: true`. */
export function isMarkedPermanent(error: unknown): boolean {
  return (
    typeof error === 'object' && error !== null && 'permanent' in error && error.permanent === true
  );
}

function fail(message: string): never {
  throw new RedisStreamsConfigError(`RedisStreams: ${message}`);
}

function integer(name: string, value: number | undefined, fallback: number, min: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min) fail(`${name} must be an integer >= ${min}, got ${v}`);
  return v;
}

function nonEmpty(name: string, value: string | undefined): string {
  if (typeof value !== 'string' || value.length === 0) fail(`${name} must be a non-empty string`);
  return value;
}

function asDelay<A>(
  name: string,
  value: number | ((arg: A) => number) | undefined,
  fallback: (arg: A) => number,
): (arg: A) => number {
  if (value === undefined) return fallback;
  if (typeof value === 'function') return value;
  const ms = integer(name, value, 0, 0);
  return () => ms;
}

export function checkConnection(connection: RedisStreamsConnection | undefined): void {
  if (isClusterConnection(connection)) {
    const { nodes, options } = connection.cluster;
    if (!Array.isArray(nodes) || nodes.length === 0) {
      fail('connection.cluster.nodes must be a non-empty list of startup nodes');
    }
    if (options?.keyPrefix || options?.redisOptions?.keyPrefix) {
      fail('connection.cluster keyPrefix is not supported: give full stream names instead');
    }
    return;
  }
  if (connection && typeof connection === 'object' && 'keyPrefix' in connection) {
    if (connection.keyPrefix) {
      fail('connection.keyPrefix is not supported: give full stream names instead');
    }
  }
}

export function resolveServerOptions(options: RedisStreamsServerOptions): ResolvedServerOptions {
  if (!options || typeof options !== 'object') fail('options are required');
  checkConnection(options.connection);
  const claimIdleMs = integer(
    'claimIdleMs',
    options.claimIdleMs,
    REDIS_STREAMS_DEFAULTS.claimIdleMs,
    1,
  );
  const claimIntervalMs = integer(
    'claimIntervalMs',
    options.claimIntervalMs,
    REDIS_STREAMS_DEFAULTS.claimIntervalMs,
    1,
  );
  if (claimIdleMs <= claimIntervalMs) {
    fail(`claimIdleMs (${claimIdleMs}) must exceed claimIntervalMs (${claimIntervalMs})`);
  }
  const dead = options.deadLetterStream;
  if (typeof dead === 'string') nonEmpty('deadLetterStream', dead);
  return {
    group: nonEmpty('group', options.group),
    consumer: nonEmpty('consumer', options.consumer ?? hostname()),
    batchSize: integer('batchSize', options.batchSize, REDIS_STREAMS_DEFAULTS.batchSize, 1),
    blockMs: integer('blockMs', options.blockMs, REDIS_STREAMS_DEFAULTS.blockMs, 1),
    concurrency: integer('concurrency', options.concurrency, REDIS_STREAMS_DEFAULTS.concurrency, 1),
    claimIdleMs,
    claimIntervalMs,
    maxDeliveries: integer(
      'maxDeliveries',
      options.maxDeliveries,
      REDIS_STREAMS_DEFAULTS.maxDeliveries,
      1,
    ),
    retryDelayMs: asDelay('retryDelayMs', options.retryDelayMs, defaultHandlerRetryDelay),
    deadLetterStream:
      typeof dead === 'function'
        ? dead
        : typeof dead === 'string'
          ? () => dead
          : defaultDeadLetterStream,
    deadLetterMaxLen: integer(
      'deadLetterMaxLen',
      options.deadLetterMaxLen,
      REDIS_STREAMS_DEFAULTS.deadLetterMaxLen,
      0,
    ),
    shutdownTimeoutMs: integer(
      'shutdownTimeoutMs',
      options.shutdownTimeoutMs,
      REDIS_STREAMS_DEFAULTS.shutdownTimeoutMs,
      0,
    ),
    startId: nonEmpty('startId', options.startId ?? REDIS_STREAMS_DEFAULTS.startId),
    orderingKey: options.orderingKey,
    deleteAcked: options.deleteAcked ?? false,
    retryAttempts: options.retryAttempts ?? Number.POSITIVE_INFINITY,
    retryDelay: asDelay('retryDelay', options.retryDelay, defaultRetryDelay),
    handlerTimeoutMs: integer(
      'handlerTimeoutMs',
      options.handlerTimeoutMs,
      REDIS_STREAMS_DEFAULTS.handlerTimeoutMs,
      0,
    ),
    isPermanentFailure: options.isPermanentFailure ?? isMarkedPermanent,
    unhandledPatterns: unhandledPatterns(options.unhandledPatterns),
    onRetentionGap: options.onRetentionGap,
  };
}

function unhandledPatterns(value: string | undefined): 'ack' | 'dead-letter' {
  if (value === undefined || value === 'ack' || value === 'dead-letter') return value ?? 'ack';
  fail(`unhandledPatterns must be 'ack' or 'dead-letter', got ${JSON.stringify(value)}`);
}

/** Resolves and checks the `streams` option: a non-empty list of distinct, non-empty names. */
export async function resolveStreams(
  streams: RedisStreamsServerOptions['streams'],
): Promise<string[]> {
  const list = typeof streams === 'function' ? await streams() : streams;
  if (!Array.isArray(list) || list.length === 0) fail('streams must be a non-empty list');
  const names = list.map((s, i) => nonEmpty(`streams[${i}]`, s as string | undefined));
  if (new Set(names).size !== names.length) fail('streams must be distinct');
  return names;
}

export interface ResolvedClientOptions {
  streamFor: (pattern: string, data: unknown) => string;
  trim: () => (string | number)[];
  timeoutMs: number;
  retryAttempts: number;
  retryDelay: (attempt: number) => number;
}

export function resolveClientOptions(options: RedisStreamsClientOptions): ResolvedClientOptions {
  if (!options || typeof options !== 'object') fail('options are required');
  checkConnection(options.connection);
  const { stream, streamFor, maxLen, minId } = options;
  if (stream === undefined && streamFor === undefined)
    fail('one of stream / streamFor is required');
  if (stream !== undefined && streamFor !== undefined) fail('give either stream or streamFor');
  if (maxLen !== undefined && minId !== undefined) fail('give either maxLen or minId, not both');
  const fixed = stream === undefined ? undefined : nonEmpty('stream', stream);
  let trim: () => (string | number)[] = () => [];
  if (maxLen !== undefined) {
    const n = integer('maxLen', maxLen, 0, 0);
    trim = () => ['MAXLEN', '~', n];
  } else if (minId !== undefined) {
    trim = () => ['MINID', '~', typeof minId === 'function' ? minId() : minId];
  }
  return {
    streamFor: fixed !== undefined ? () => fixed : streamFor!,
    trim,
    timeoutMs: integer('timeoutMs', options.timeoutMs, REDIS_STREAMS_DEFAULTS.clientTimeoutMs, 1),
    retryAttempts: options.retryAttempts ?? Number.POSITIVE_INFINITY,
    retryDelay: asDelay('retryDelay', options.retryDelay, defaultRetryDelay),
  };
}
