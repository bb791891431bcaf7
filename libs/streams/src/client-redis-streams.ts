import { Logger } from '@nestjs/common';
import { ClientProxy, MsPattern, ReadPacket, WritePacket } from '@nestjs/microservices';
import type { Cluster, Redis } from 'ioredis';
import { createClusterConnection, isClusterConnection } from './redis-streams.cluster';
import { Observable, throwError } from 'rxjs';
import {
  attach,
  closeClient,
  connectClient,
  connectionName,
  createConnection,
  type PendingListener,
} from './redis-streams.connection';
import {
  DATA_FIELD,
  NOT_INITIALIZED_CLIENT,
  PATTERN_FIELD,
  SEND_NOT_SUPPORTED,
} from './redis-streams.constants';
import { RedisStreamsEvents, RedisStreamsStatus } from './redis-streams.events';
import {
  resolveClientOptions,
  type RedisStreamsClientOptions,
  type ResolvedClientOptions,
} from './redis-streams.options';
import { createRetryStrategy } from './redis-streams.retry';
import { StatusBoard } from './redis-streams.status';

/**
 * Producer side of the Redis Streams transport: `emit(pattern, data)` XADDs an entry with fields
 * `pattern` and `data` (JSON). The returned Observable emits the entry id and completes once
 * Redis acknowledged the XADD; it errors when the XADD fails or Redis is unreachable (bounded by
 * `timeoutMs`: there is no offline queue). Request-response (`send`) is not supported.
 * @publicApi
 */
export class RedisStreamsClient extends ClientProxy<RedisStreamsEvents, RedisStreamsStatus> {
  protected readonly logger = new Logger(RedisStreamsClient.name);
  protected readonly config: ResolvedClientOptions;
  /** A `Cluster` when `connection` is `{ cluster }`. */
  protected client: Redis | Cluster | null = null;
  protected connectionPromise: Promise<void> | null = null;
  protected isExplicitlyClosed = false;
  protected pendingEventListeners: PendingListener[] = [];
  private readonly retryStrategy: (times: number) => number | null;

  constructor(protected readonly options: RedisStreamsClientOptions) {
    super();
    this.config = resolveClientOptions(options);
    this.retryStrategy = createRetryStrategy({
      ...this.config,
      isClosed: () => this.isExplicitlyClosed,
      logger: this.logger,
    });
    this.initializeSerializer({ serializer: options.serializer });
  }

  /**
   * Connects (once; concurrent callers share the attempt). While the connection is being
   * re-established, waits for it at most `timeoutMs`.
   */
  async connect(): Promise<void> {
    this.isExplicitlyClosed = false;
    if (this.client && this.client.status !== 'end') {
      if (this.client.status === 'ready') return;
      if (this.connectionPromise) return this.connectionPromise;
      return connectClient(this.client, this.config.timeoutMs);
    }
    const client = (this.client = this.createClient());
    new StatusBoard(
      (status) => this._status$.next(status),
      () => this.isExplicitlyClosed,
    ).track('producer', client, this.logger);
    this.pendingEventListeners.forEach((listener) => attach(client, 'producer', listener));
    this.pendingEventListeners = [];
    const attempt = connectClient(client, this.config.timeoutMs).finally(() => {
      if (this.connectionPromise === attempt) this.connectionPromise = null;
    });
    this.connectionPromise = attempt;
    return attempt;
  }

  async close(): Promise<void> {
    this.isExplicitlyClosed = true;
    const client = this.client;
    this.client = null;
    this.connectionPromise = null;
    await closeClient(client ?? undefined);
    this.pendingEventListeners = [];
  }

  /** The ioredis client (after connect()): a `Redis`, or a `Cluster` in cluster mode. */
  unwrap<T>(): T {
    if (!this.client) throw new Error(NOT_INITIALIZED_CLIENT);
    return this.client as T;
  }

  override on<
    EventKey extends keyof RedisStreamsEvents = keyof RedisStreamsEvents,
    EventCallback extends RedisStreamsEvents[EventKey] = RedisStreamsEvents[EventKey],
  >(event: EventKey, callback: EventCallback): void {
    if (this.client) {
      attach(this.client, 'producer', { event, callback });
    } else {
      this.pendingEventListeners.push({ event, callback });
    }
  }

  /** Request-response is not supported: fails at once, without connecting. */
  override send<TResult = unknown, TInput = unknown>(
    _pattern: unknown,
    _data: TInput,
  ): Observable<TResult> {
    return throwError(() => new Error(SEND_NOT_SUPPORTED));
  }

  protected publish(_packet: ReadPacket, _callback: (packet: WritePacket) => void): () => void {
    throw new Error(SEND_NOT_SUPPORTED);
  }

  /** XADD <stream> [MAXLEN|MINID ~ n] * pattern <pattern> data <json>; resolves with the id. */
  protected async dispatchEvent<T = string>(packet: ReadPacket): Promise<T> {
    const pattern = this.normalizePattern(packet.pattern as MsPattern);
    const serialized: unknown = this.serializer.serialize(packet);
    const data: unknown =
      serialized && typeof serialized === 'object' && 'data' in serialized
        ? serialized.data
        : serialized;
    const json = JSON.stringify(data);
    if (json === undefined)
      throw new Error(`RedisStreamsClient: data of "${pattern}" is not JSON-serializable`);
    const stream = this.config.streamFor(pattern, data);
    if (typeof stream !== 'string' || stream === '') {
      throw new Error(`RedisStreamsClient: no stream for "${pattern}"`);
    }
    const client = this.client;
    if (!client) throw new Error(NOT_INITIALIZED_CLIENT);
    const cluster = isClusterConnection(this.options.connection);
    // Cluster: fail fast while not ready, like the standalone client without offline queue.
    if (cluster && client.status !== 'ready') {
      throw new Error(`Cluster isn't ready (status: ${client.status})`);
    }
    const xadd = client.call(
      'XADD',
      stream,
      ...this.config.trim(),
      '*',
      PATTERN_FIELD,
      pattern,
      DATA_FIELD,
      json,
    );
    // A Cluster client follows redirections and retries on other nodes (each attempt bounded by
    // commandTimeout): bound the whole emit too.
    const id = cluster
      ? await withTimeout(xadd, this.config.timeoutMs, `XADD to ${stream}`)
      : await xadd;
    return id as T;
  }

  protected createClient(): Redis | Cluster {
    const { timeoutMs } = this.config;
    const connection = this.options.connection;
    if (isClusterConnection(connection)) {
      // XADD is routed by key to the master serving the stream's slot.
      return createClusterConnection({
        cluster: connection.cluster,
        // The cluster-level offline queue stays on: without it, ioredis bounces the commands sent
        // to a node while its connection is being established (first use, new master) to a
        // random node, and the MOVED answers re-send them one by one, out of order. Emits fail
        // fast while the cluster is not ready instead (dispatchEvent).
        nodeDefaults: {
          connectionName: connectionName('streams', 'producer'),
          connectTimeout: timeoutMs,
        },
        nodeForced: {
          autoResendUnfulfilledCommands: false,
          commandTimeout: timeoutMs,
          maxRetriesPerRequest: 0,
        },
        retryStrategy: (times) => this.createRetryStrategy(times),
      });
    }
    return createConnection({
      connection: this.options.connection,
      role: 'producer',
      defaults: {
        connectionName: connectionName('streams', 'producer'),
        connectTimeout: timeoutMs,
      },
      // Bounded: no offline queue, no silent re-send after a reconnect, a reply deadline.
      forced: {
        enableOfflineQueue: false,
        autoResendUnfulfilledCommands: false,
        commandTimeout: timeoutMs,
        maxRetriesPerRequest: 0,
      },
      retryStrategy: (times) => this.createRetryStrategy(times),
    });
  }

  createRetryStrategy(times: number): number | null {
    return this.retryStrategy(times);
  }
}

/** `promise`, or a rejection after `ms`. */
async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
