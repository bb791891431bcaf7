import { type Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisStreamsConnectionRole, RedisStreamsEvents } from './redis-streams.events';
import { isClusterConnection } from './redis-streams.cluster';
import type { RedisStreamsConnection } from './redis-streams.options';
import { RedisStreamsConfigError } from './redis-streams.errors';

const DEFAULT_URL = 'redis://localhost:6379';

export interface CreateConnectionArgs {
  connection: RedisStreamsConnection | undefined;
  role: RedisStreamsConnectionRole;
  /** Defaults the user's options may override. */
  defaults: RedisOptions;
  /** Applied over the user's options (what the role cannot work without). */
  forced?: RedisOptions;
  /** Applied last, except to factory clients. */
  retryStrategy: (times: number) => number | null;
}

/** A new client for one role; lazy (connected by {@link connectClient}), never shared. */
export function createConnection({
  connection,
  role,
  defaults,
  forced,
  retryStrategy,
}: CreateConnectionArgs): Redis {
  if (typeof connection === 'function') {
    const client = connection(role);
    if (!(client instanceof Redis)) {
      throw new RedisStreamsConfigError(
        `RedisStreams: the connection factory must return an ioredis client (${role})`,
      );
    }
    return client;
  }
  if (isClusterConnection(connection)) {
    throw new RedisStreamsConfigError(
      `RedisStreams: a cluster connection needs a Cluster client (${role})`,
    );
  }
  const mandatory: RedisOptions = { ...forced, lazyConnect: true, retryStrategy };
  // Without this, disconnect() on an already-closed socket (refused, killed) arms a 2 s timer
  // that keeps the process alive after close(). Quit has been answered by then anyway.
  const base: RedisOptions = { disconnectTimeout: 0, ...defaults };
  if (typeof connection === 'string' || connection === undefined) {
    // ioredis gives the URL precedence over the options object for the keys both set.
    return new Redis(connection ?? DEFAULT_URL, { ...base, ...mandatory });
  }
  return new Redis({ ...base, ...connection, ...mandatory });
}

/**
 * Connects a lazy client, or waits for one that is already connecting; bounded by `timeoutMs`
 * when given (a server that accepts the socket but never answers must not hang the caller).
 */
export async function connectClient(client: Redis | Cluster, timeoutMs?: number): Promise<void> {
  if (client.status === 'ready') return;
  if (client.status !== 'wait') return waitUntilReady(client, timeoutMs);
  const connecting = client.connect();
  if (timeoutMs === undefined) return connecting;
  connecting.catch(() => undefined); // reported through the race below
  await Promise.race([connecting, waitUntilReady(client, timeoutMs)]);
}

/** Resolves on 'ready'; rejects on 'end' or after `timeoutMs` (when given). */
export function waitUntilReady(client: Redis | Cluster, timeoutMs?: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  if (client.status === 'end') {
    return Promise.reject(new Error('Connection is closed.'));
  }
  return new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const cleanup = (): void => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('end', onEnd);
    };
    const onReady = (): void => {
      cleanup();
      resolve();
    };
    const onEnd = (): void => {
      cleanup();
      reject(new Error('Connection is closed.'));
    };
    client.on('ready', onReady);
    client.on('end', onEnd);
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => {
        cleanup();
        reject(new Error(`Redis not ready within ${timeoutMs} ms (status: ${client.status})`));
      }, timeoutMs);
    }
  });
}

/** QUIT, bounded: a dead or reconnecting connection is dropped after `timeoutMs`. */
export async function closeClient(
  client: Redis | Cluster | undefined,
  timeoutMs = 1_000,
): Promise<void> {
  if (!client || client.status === 'end') return;
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.quit(),
      new Promise((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
  } catch {
    // fall through to disconnect
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}

/** `name` made safe for CLIENT SETNAME (no spaces). */
export function connectionName(...parts: string[]): string {
  return parts.join(':').replace(/\s+/g, '_');
}

/** An `on(event, callback)` registration of a server or client. */
export interface PendingListener {
  event: keyof RedisStreamsEvents;
  callback: RedisStreamsEvents[keyof RedisStreamsEvents];
}

/** Forwards a connection's ioredis event to an `on()` listener, with the connection's role. */
export function attach(
  client: Redis | Cluster,
  role: RedisStreamsConnectionRole,
  { event, callback }: PendingListener,
): void {
  client.on(event, (...args: unknown[]) => (callback as (...a: unknown[]) => void)(role, ...args));
}
