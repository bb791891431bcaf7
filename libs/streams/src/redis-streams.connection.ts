import type { LoggerService } from '@nestjs/common';
import { type Cluster, Redis, type RedisOptions } from 'ioredis';
import { RedisStreamsConnectionRole, RedisStreamsStatus } from './redis-streams.events';
import { isClusterConnection } from './redis-streams.cluster';
import type { RedisStreamsConnection } from './redis-streams.options';

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
      throw new Error(
        `RedisStreams: the connection factory must return an ioredis client (${role})`,
      );
    }
    return client;
  }
  if (isClusterConnection(connection)) {
    throw new Error(`RedisStreams: a cluster connection needs a Cluster client (${role})`);
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

export interface StatusTrackerArgs {
  clients: ReadonlyMap<RedisStreamsConnectionRole, Redis | Cluster>;
  logger: LoggerService;
  isClosed: () => boolean;
  emit: (status: RedisStreamsStatus) => void;
}

/**
 * Turns the connections' events into one status, like Nest's Redis transports do: 'connected'
 * once every connection is ready, 'reconnecting' while one is down, 'disconnected' when one gave
 * up. Nothing is reported once the owner was closed on purpose.
 */
export function trackStatus({ clients, logger, isClosed, emit }: StatusTrackerArgs): void {
  let wasConnected = false;
  const all = [...clients.values()];
  const report = (): void => {
    if (isClosed()) return;
    if (all.some((c) => c.status === 'end')) emit(RedisStreamsStatus.DISCONNECTED);
    else if (all.every((c) => c.status === 'ready')) emit(RedisStreamsStatus.CONNECTED);
    else if (all.some((c) => c.status === 'reconnecting')) emit(RedisStreamsStatus.RECONNECTING);
  };
  for (const [role, client] of clients) {
    client.on('error', (err: Error) => {
      if (!isClosed()) logger.error(`Redis (${role}): ${err.message}`);
    });
    client.on('reconnecting', () => {
      if (isClosed()) return;
      if (wasConnected) logger.log(`Reconnecting to Redis (${role})...`);
      report();
    });
    client.on('ready', () => {
      wasConnected = true;
      logger.log(`Connected to Redis (${role}).`);
      report();
    });
    client.on('end', () => {
      if (isClosed()) return;
      logger.error(
        `Disconnected from Redis (${role}). No further reconnection attempts will be made.`,
      );
      report();
    });
  }
}

export type MemberState = 'connecting' | 'ready' | 'reconnecting' | 'end';

/**
 * One status over a changing set of connections (the cluster-mode server: a Cluster client plus
 * one reader per slot, replaced as slots move): 'connected' once every member is ready,
 * 'reconnecting' while one is down, 'disconnected' when one gave up. Reports changes only, and
 * nothing once the owner was closed on purpose.
 */
export class StatusBoard {
  private readonly states = new Map<string, MemberState>();
  private last: RedisStreamsStatus | undefined;

  constructor(
    private readonly emit: (status: RedisStreamsStatus) => void,
    private readonly isClosed: () => boolean,
  ) {}

  set(member: string, state: MemberState): void {
    this.states.set(member, state);
    if (this.isClosed()) return;
    const all = [...this.states.values()];
    let next: RedisStreamsStatus;
    if (all.includes('end')) next = RedisStreamsStatus.DISCONNECTED;
    else if (all.every((s) => s === 'ready')) next = RedisStreamsStatus.CONNECTED;
    else if (all.includes('reconnecting')) next = RedisStreamsStatus.RECONNECTING;
    else return;
    if (next === this.last) return;
    this.last = next;
    this.emit(next);
  }

  /** Follows a client that reconnects by itself (the cluster-mode `commands` Cluster client). */
  track(member: string, client: Redis | Cluster, logger: LoggerService): void {
    let wasConnected = false;
    this.set(member, 'connecting');
    client.on('error', (err: Error) => {
      if (!this.isClosed()) logger.error(`Redis (${member}): ${err.message}`);
    });
    client.on('reconnecting', () => {
      if (this.isClosed()) return;
      if (wasConnected) logger.log(`Reconnecting to Redis (${member})...`);
      this.set(member, 'reconnecting');
    });
    client.on('ready', () => {
      wasConnected = true;
      logger.log(`Connected to Redis (${member}).`);
      this.set(member, 'ready');
    });
    client.on('end', () => {
      if (this.isClosed()) return;
      logger.error(
        `Disconnected from Redis (${member}). No further reconnection attempts will be made.`,
      );
      this.set(member, 'end');
    });
  }
}

/** `name` made safe for CLIENT SETNAME (no spaces). */
export function connectionName(...parts: string[]): string {
  return parts.join(':').replace(/\s+/g, '_');
}
