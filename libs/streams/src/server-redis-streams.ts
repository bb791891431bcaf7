import { setMaxListeners } from 'node:events';
import { Logger } from '@nestjs/common';
import { settledWithin } from '@app/config';
import { CustomTransportStrategy, MessageHandler, Server } from '@nestjs/microservices';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import {
  clusterNodeOptions,
  createClusterConnection,
  checkDeadLetterSlots,
  groupBySlot,
  isClusterConnection,
  type NodeAddress,
} from './redis-streams.cluster';
import {
  attach,
  closeClient,
  connectClient,
  connectionName,
  createConnection,
  type PendingListener,
} from './redis-streams.connection';
import { NOT_INITIALIZED_SERVER, REDIS_STREAMS_TRANSPORT } from './redis-streams.constants';
import {
  RedisStreamsConnectionRole,
  RedisStreamsEvents,
  RedisStreamsStatus,
} from './redis-streams.events';
import type { RedisStreamsCapabilities, RedisStreamsLag } from './redis-streams.groups';
import { createHandlerHost } from './redis-streams.handler-host';
import { createServerParts, type ServerParts } from './redis-streams.parts';
import {
  resolveServerOptions,
  resolveStreams,
  type RedisStreamsClusterConnection,
  type ResolvedServerOptions,
  type RedisStreamsServerOptions,
} from './redis-streams.options';
import { StreamReader } from './redis-streams.reader';
import { createRetryStrategy } from './redis-streams.retry';
import {
  createCounters,
  type RedisStreamsStats,
  type ServerRuntime,
} from './redis-streams.runtime';
import { delay } from './redis-streams.scheduler';
import { masterOf, SlotReader } from './redis-streams.slot-reader';
import { StatusBoard } from './redis-streams.status';
import { RedisStreamsConfigError } from './redis-streams.errors';

export type { RedisStreamsCapabilities, RedisStreamsLag, RedisStreamsStats };

/**
 * Redis Streams transport: consumer groups over several partition streams, acknowledged after
 * the handler succeeded, retried in place, dead-lettered after `maxDeliveries`, with bounded
 * concurrency and per-key ordering. Handlers are plain `@EventPattern(pattern)` methods.
 *
 * This class owns the connections, the lifecycle and the status; reading (StreamReader, or a
 * SlotReader per hash slot on a Cluster), claiming (Claimer), dispatching (Dispatcher,
 * EntryProcessor), acknowledging (Acknowledger) and dead-lettering (DeadLetterer) are its parts.
 * @publicApi
 */
export class RedisStreamsServer
  extends Server<RedisStreamsEvents, RedisStreamsStatus>
  implements CustomTransportStrategy
{
  override transportId = REDIS_STREAMS_TRANSPORT;
  protected override readonly logger = new Logger(RedisStreamsServer.name);

  protected readonly config: ResolvedServerOptions;
  /** Dedicated to the blocking XREADGROUP (standalone; cluster mode has one per slot). */
  protected reader: Redis | undefined;
  /** XACK, XAUTOCLAIM, XPENDING, dead-letter XADD, ...: a `Cluster` (routes by key) in cluster mode. */
  protected commands: Redis | Cluster | undefined;
  protected streams: string[] = [];
  /** Cluster mode (`connection: { cluster }`): startup nodes and options. */
  protected readonly cluster: RedisStreamsClusterConnection['cluster'] | undefined;
  protected isExplicitlyClosed = false;
  protected pendingEventListeners: PendingListener[] = [];

  private readonly abort = new AbortController();
  private readonly counters = createCounters();
  private readonly runtime: ServerRuntime;
  private readonly retryStrategy: (times: number) => number | null;
  private parts: ServerParts | undefined;
  private streamReader: StreamReader | undefined;
  private slotReaders: SlotReader[] = [];
  /** Cluster mode: `on()` listeners, attached to every reader connection, present or future. */
  private readerListeners: PendingListener[] = [];
  private closing: Promise<void> | undefined;
  private started = false;

  constructor(protected readonly options: RedisStreamsServerOptions) {
    super();
    // Every retry and back-off waits on this signal (one listener each, removed when it ends):
    // hundreds at once are normal during a fail-over, not a leak.
    setMaxListeners(0, this.abort.signal);
    this.config = resolveServerOptions(options);
    this.cluster = isClusterConnection(options.connection) ? options.connection.cluster : undefined;
    const isClosed = (): boolean => this.isExplicitlyClosed;
    this.runtime = {
      config: this.config,
      logger: this.logger,
      signal: this.abort.signal,
      clustered: this.cluster !== undefined,
      isClosed,
      commands: () => this.requireCommands(),
    };
    this.retryStrategy = createRetryStrategy({ ...this.config, isClosed, logger: this.logger });
    this.initializeDeserializer({ deserializer: options.deserializer });
  }

  listen(callback: (err?: unknown, ...optionalParams: unknown[]) => void): void {
    this.start().then(
      () => callback(),
      (err: unknown) => callback(err),
    );
  }

  /**
   * Stops reading (the blocking connections are dropped, which aborts the BLOCK), waits up to
   * `shutdownTimeoutMs` for running handlers, then quits. Entries not finished stay pending, to
   * be re-read by this consumer on restart or claimed by another one. The consumer is never
   * deleted from the group.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /**
   * `[reader, commands]`: the blocking connection and the command connection. In cluster mode
   * `[readers, commands]`: the current blocking connection of each slot (`Redis[]`) and the
   * `Cluster` client.
   */
  unwrap<T>(): T {
    if (this.cluster) {
      if (!this.commands) throw new Error(NOT_INITIALIZED_SERVER);
      const readers = this.slotReaders.flatMap((r) => (r.client ? [r.client] : []));
      return [readers, this.commands] as T;
    }
    if (!this.reader || !this.commands) throw new Error(NOT_INITIALIZED_SERVER);
    return [this.reader, this.commands] as T;
  }

  on<
    EventKey extends keyof RedisStreamsEvents = keyof RedisStreamsEvents,
    EventCallback extends RedisStreamsEvents[EventKey] = RedisStreamsEvents[EventKey],
  >(event: EventKey, callback: EventCallback): void {
    const listener: PendingListener = { event, callback };
    if (this.cluster && this.commands) {
      attach(this.commands, 'commands', listener);
      this.slotReaders.forEach((r) => r.client && attach(r.client, 'reader', listener));
      this.readerListeners.push(listener);
    } else if (this.reader && this.commands) {
      attach(this.reader, 'reader', listener);
      attach(this.commands, 'commands', listener);
    } else {
      this.pendingEventListeners.push(listener);
    }
  }

  /**
   * Nest finds a handler by first JSON.parse-ing the pattern, which throws (and captures a stack
   * trace) for every plain string pattern such as `session.created`: 9 % of a busy worker's CPU.
   * A pattern equal to a registered (normalized) one needs no parse; any other goes Nest's way.
   */
  override getHandlerByPattern(pattern: string): MessageHandler | null {
    return this.messageHandlers.get(pattern) ?? super.getHandlerByPattern(pattern);
  }

  /** Counters since creation, plus what is held and running now. */
  stats(): RedisStreamsStats {
    const inFlight = this.parts?.dispatcher.inFlight ?? 0;
    return {
      ...this.counters,
      deadLetteredByReason: { ...this.counters.deadLetteredByReason },
      inFlight,
      running: this.parts?.processor.running ?? 0,
      stuck: this.parts?.processor.stuck ?? 0,
    };
  }

  /** Server features detected at start. */
  getCapabilities(): RedisStreamsCapabilities {
    return this.parts?.groups.getCapabilities() ?? { xackdel: false };
  }

  /** The streams consumed, in partition order (resolved in listen()). */
  getStreams(): readonly string[] {
    return this.streams;
  }

  /** Per stream: entries pending in the group and entries not yet delivered to it. */
  async lag(): Promise<RedisStreamsLag[]> {
    this.requireCommands();
    return this.parts!.groups.lag();
  }

  createRetryStrategy(times: number): number | null {
    return this.retryStrategy(times);
  }

  /** Connects, creates the groups, then starts the read loop(s) and the claimer. */
  protected async start(): Promise<void> {
    // Set before the first await: two concurrent listen() calls must not both start.
    if (this.started) throw new Error('RedisStreamsServer: listen() was already called');
    this.started = true;
    this.streams = await resolveStreams(this.options.streams);
    const parts = (this.parts = this.buildParts());
    if (this.cluster) return this.startCluster(parts);
    const reader = (this.reader = this.createRedisClient('reader'));
    const commands = (this.commands = this.createRedisClient('commands'));
    if (reader === commands) {
      throw new RedisStreamsConfigError(
        'RedisStreamsServer: the connection factory must return a new client per call',
      );
    }
    const board = this.createStatusBoard();
    const clients: [RedisStreamsConnectionRole, Redis][] = [
      ['reader', reader],
      ['commands', commands],
    ];
    clients.forEach(([role, client]) => board.track(role, client, this.logger));
    this.pendingEventListeners.forEach((l) => clients.forEach(([r, c]) => attach(c, r, l)));
    this.pendingEventListeners = [];
    await this.prepare(parts, [reader, commands], () => connectClient(reader));
    if (this.isExplicitlyClosed) return;
    this.streamReader = new StreamReader(
      this.runtime,
      reader,
      this.streams,
      parts.dispatcher,
      parts.groups,
      () => parts.claimer.schedule(0),
    );
    this.streamReader.start();
  }

  /**
   * Cluster mode: a `Cluster` client for every keyed command, then one read loop per hash slot
   * holding configured streams, each with a blocking connection of its own to the master serving
   * the slot (XREADGROUP over several keys needs them in one slot, and a blocking read occupies
   * its connection).
   */
  private async startCluster(parts: ServerParts): Promise<void> {
    checkDeadLetterSlots(this.streams, this.config.deadLetterStream);
    const commands = this.createClusterClient();
    this.commands = commands;
    const board = this.createStatusBoard();
    board.track('commands', commands, this.logger);
    const deps = {
      runtime: this.runtime,
      cluster: commands,
      clusterOptions: this.cluster!.options,
      dispatcher: parts.dispatcher,
      groups: parts.groups,
      board,
      connect: (address: NodeAddress, slot: number) => this.createSlotReader(address, slot),
      onConnection: (client: Redis) =>
        this.readerListeners.forEach((l) => attach(client, 'reader', l)),
    };
    this.slotReaders = groupBySlot(this.streams).map(
      ({ slot, streams }) => new SlotReader(slot, streams, deps),
    );
    this.readerListeners = this.pendingEventListeners;
    this.pendingEventListeners = [];
    this.readerListeners.forEach((l) => attach(commands, 'commands', l));
    commands.on('refresh', () => {
      if (this.isExplicitlyClosed) return;
      this.slotReaders.forEach((r) => r.follow(masterOf(commands, r.slot)));
    });
    await this.prepare(parts, [commands]);
    if (this.isExplicitlyClosed) return;
    this.slotReaders.forEach((r) => r.start());
    // Claiming starts once own pending entries were re-read (as in standalone mode), or after
    // one claim interval when a slot's master cannot be reached (leases must be renewed).
    void Promise.race([
      Promise.all(this.slotReaders.map((r) => r.firstPendingRead)),
      delay(this.config.claimIntervalMs, this.abort.signal),
    ]).then(() => parts.claimer.schedule(0));
  }

  /** Connects the command connection (and `more`), detects features, creates the groups. */
  private async prepare(
    parts: ServerParts,
    clients: (Redis | Cluster)[],
    more?: () => Promise<void>,
  ): Promise<void> {
    try {
      await Promise.all([connectClient(this.commands!), more?.()]);
      await parts.groups.detectCapabilities();
      await parts.groups.ensure();
    } catch (err) {
      this.isExplicitlyClosed = true;
      clients.forEach((c) => c.disconnect());
      throw err;
    }
    // Before the first read: a consumer resuming behind the retention says so at once.
    await parts.retention.check();
  }

  protected async shutdown(): Promise<void> {
    this.isExplicitlyClosed = true;
    this.abort.abort();
    const parts = this.parts;
    parts?.claimer.cancel();
    parts?.dispatcher.wakeAll();
    await Promise.all([this.streamReader?.stop(), ...this.slotReaders.map((r) => r.stop())]);
    // One bound for both. A claim under way waits for Redis: not at all while Redis is away
    // (its command would wait in the offline queue for ever), else within the bound.
    const deadline = Date.now() + this.config.shutdownTimeoutMs;
    if (this.commands?.status === 'ready')
      await settledWithin(parts?.claimer.idle(), deadline - Date.now());
    if (parts && !(await parts.dispatcher.drain(Math.max(0, deadline - Date.now())))) {
      parts.processor.abandon();
      this.logger.warn(
        `${parts.processor.running} handler(s) still running after ${this.config.shutdownTimeoutMs} ms; ` +
          'their entries stay pending and will be redelivered',
      );
    }
    await closeClient(this.commands);
    this.pendingEventListeners = [];
  }

  protected createRedisClient(role: 'reader' | 'commands'): Redis {
    const name = connectionName('streams', this.config.group, this.config.consumer, role);
    // A user's commandTimeout would cut the BLOCK short (a silent socket is caught by watchRead).
    const forced: RedisOptions = role === 'reader' ? { commandTimeout: undefined } : {};
    return createConnection({
      connection: this.options.connection,
      role,
      defaults: { connectionName: name, maxRetriesPerRequest: null },
      forced,
      retryStrategy: (times) => this.createRetryStrategy(times),
    });
  }

  /** The `Cluster` client of cluster mode (commands role): routes each command by its key. */
  protected createClusterClient(): Cluster {
    const { group, consumer } = this.config;
    return createClusterConnection({
      cluster: this.cluster!,
      nodeDefaults: { connectionName: connectionName('streams', group, consumer, 'commands') },
      retryStrategy: (times) => this.createRetryStrategy(times),
    });
  }

  /**
   * Cluster mode: the blocking connection reading one slot, to the master at `address`. It does
   * not reconnect by itself: its read loop reconnects, to wherever the slot is served by then.
   */
  protected createSlotReader(address: NodeAddress, slot: number): Redis {
    const { group, consumer } = this.config;
    const name = connectionName('streams', group, consumer, 'reader', String(slot));
    return new Redis(
      clusterNodeOptions(
        this.cluster!,
        address,
        { connectionName: name },
        {
          // A user's commandTimeout would cut the BLOCK short (a silent socket is caught by watchRead).
          commandTimeout: undefined,
          retryStrategy: () => null,
          autoResendUnfulfilledCommands: false,
          enableOfflineQueue: true,
          readOnly: false,
        },
      ),
    );
  }

  private buildParts(): ServerParts {
    const host = createHandlerHost({
      deserializer: this.deserializer,
      normalizePattern: (p) => this.normalizePattern(p),
      getHandlerByPattern: (p) => this.getHandlerByPattern(p),
      transformToObservable: (r) => this.transformToObservable(r),
      onProcessingStart: (ctx, done) => this.onProcessingStartHook(this.transportId, ctx, done),
      onProcessingEnd: (ctx) => this.onProcessingEndHook?.(this.transportId, ctx),
    });
    return createServerParts(this.runtime, this.streams, this.counters, host);
  }

  private createStatusBoard(): StatusBoard {
    return new StatusBoard(
      (status) => this._status$.next(status),
      () => this.isExplicitlyClosed,
    );
  }

  private requireCommands(): Redis | Cluster {
    if (!this.commands) throw new Error(NOT_INITIALIZED_SERVER);
    return this.commands;
  }
}
