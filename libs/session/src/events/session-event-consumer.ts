import { hostname } from 'node:os';
import type { ClusterNode, ClusterOptions, RedisOptions } from 'ioredis';
import { SessionConfigError } from '../errors';
import { resolveSessionOptions, type SessionModuleOptions } from '../session-options';
import { SessionKeys } from '../store/session-keys';

/** The worker's consumer group: an app's consumer must never join it (it would steal events). */
export const WORKER_EVENT_GROUP = 'session-projections';

/**
 * `shared`: every instance of the app joins one group, so each event goes to ONE instance (work
 * to do once: send an email, bill). `per-instance`: each instance has its own group
 * (`<group>.<consumer>`), so EVERY instance sees every event (local state: drop a cache entry,
 * close a socket).
 */
export type SessionEventGroupMode = 'shared' | 'per-instance';

export interface SessionEventConsumerOptions {
  /** The options the app gives SessionModule (e.g. `sessionOptionsFromEnv(...)`): prefix, partitions, Redis. */
  session: Pick<SessionModuleOptions, 'redis' | 'keyPrefix' | 'streamPartitions'>;
  /** The app's consumer group name (letters, digits, `_.-`); not the worker's `session-projections`. */
  group: string;
  /** Default `shared`. */
  mode?: SessionEventGroupMode;
  /**
   * This instance's consumer name: stable across its restarts, unique among live instances.
   * Default `os.hostname()`. In `per-instance` mode it also names the instance's group.
   */
  consumer?: string;
  /** Where a NEW group starts: `$` (events from now on, default) or `0` (the retained history). */
  startId?: '$' | '0';
  /** Deliveries (the first included) before a failing event is dead-lettered. Default 5. */
  maxDeliveries?: number;
  /** Delay before retrying a failed handler (ms), by delivery count. Default 1 s doubling to 30 s. */
  retryDelayMs?: number | ((deliveryCount: number) => number);
  /** Handlers running at once (events of one user always run one at a time, in order). Default 16. */
  concurrency?: number;
  /** The transport's own connection, when the session's `redis` is a client (which it cannot share). */
  connection?: SessionEventConnection;
}

/** A Redis Streams transport connection (structurally `RedisStreamsConnection` of `@app/streams`). */
export type SessionEventConnection =
  string | RedisOptions | { cluster: { nodes: readonly ClusterNode[]; options?: ClusterOptions } };

/**
 * Options for `new RedisStreamsServer(...)` (`@app/streams`, stated structurally): the session
 * event streams of the deployment, the group, a dead-letter stream per group, per-user ordering.
 */
export interface SessionEventConsumerConfig {
  connection: SessionEventConnection;
  streams: readonly string[];
  group: string;
  consumer: string;
  startId: string;
  deadLetterStream: (stream: string) => string;
  orderingKey: (data: unknown) => string | undefined;
  maxDeliveries?: number;
  retryDelayMs?: number | ((deliveryCount: number) => number);
  concurrency?: number;
  /** Where this group's dead letters go: one stream per partition stream (for monitoring). */
  deadLetterStreams: readonly string[];
}

const GROUP = /^[A-Za-z0-9_.-]{1,64}$/;

function connectionOf(options: SessionEventConsumerOptions): SessionEventConnection {
  if (options.connection) return options.connection;
  const redis = options.session.redis;
  if ('client' in redis) {
    throw new SessionConfigError(
      'connection',
      'the session uses a Redis client the consumer cannot share (it needs blocking connections of its own): pass `connection`',
    );
  }
  if ('cluster' in redis) return { cluster: redis.cluster };
  if ('url' in redis)
    return redis.options ? { ...redis.options, ...optionsFromUrl(redis.url) } : redis.url;
  return redis.options;
}

function optionsFromUrl(url: string): RedisOptions {
  const parsed = new URL(url);
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  return {
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : 6379,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(Number.isInteger(db) && db > 0 ? { db } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** The user an event is about: `userId`, or `u` in the compact form (storage format 2). */
function userOfEvent(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const { userId, u } = data as { userId?: unknown; u?: unknown };
  const user = userId ?? u;
  return typeof user === 'string' ? user : undefined;
}

/**
 * Configures a Redis Streams microservice that receives the session lifecycle events:
 *
 *   app.connectMicroservice({ strategy: new RedisStreamsServer(sessionEventConsumer({ ... })) });
 *
 * with `@OnSessionEvent(type)` handlers. Delivery is at least once (handlers must be idempotent),
 * in order per user; an event whose handler keeps failing goes to the group's own dead-letter
 * stream (`<stream>:dead:<group>`), never the worker's.
 */
export function sessionEventConsumer(
  options: SessionEventConsumerOptions,
): SessionEventConsumerConfig {
  const mode = options.mode ?? 'shared';
  if (mode !== 'shared' && mode !== 'per-instance')
    throw new SessionConfigError(
      'mode',
      `must be 'shared' or 'per-instance' (got ${JSON.stringify(mode)})`,
    );
  const consumer = options.consumer ?? hostname();
  const group = mode === 'per-instance' ? `${options.group}.${consumer}` : options.group;
  if (typeof options.group !== 'string' || !GROUP.test(group))
    throw new SessionConfigError('group', `must match ${GROUP} (got ${JSON.stringify(group)})`);
  if (group === WORKER_EVENT_GROUP)
    throw new SessionConfigError(
      'group',
      `${WORKER_EVENT_GROUP} is the worker's group: choose your own`,
    );
  const resolved = resolveSessionOptions(options.session);
  const keys = new SessionKeys(resolved.keyPrefix, resolved.streamPartitions);
  const streams = keys.allEventStreams();
  return {
    connection: connectionOf(options),
    streams,
    group,
    consumer,
    startId: options.startId ?? '$',
    deadLetterStream: (stream) => keys.consumerDeadLetters(stream, group),
    orderingKey: userOfEvent,
    ...(options.maxDeliveries !== undefined ? { maxDeliveries: options.maxDeliveries } : {}),
    ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}),
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    deadLetterStreams: streams.map((stream) => keys.consumerDeadLetters(stream, group)),
  };
}
