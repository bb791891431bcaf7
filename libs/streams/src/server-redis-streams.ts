import { setMaxListeners } from 'node:events';
import { Logger } from '@nestjs/common';
import {
  CustomTransportStrategy,
  IncomingEvent,
  IncomingRequest,
  MessageHandler,
  MsPattern,
  Server,
} from '@nestjs/microservices';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { lastValueFrom } from 'rxjs';
import {
  clusterNodeOptions,
  createClusterConnection,
  groupBySlot,
  isClusterConnection,
  keySlot,
  mapNodeKey,
  parseNodeKey,
  parseRedirection,
  type NodeAddress,
} from './redis-streams.cluster';
import {
  closeClient,
  connectClient,
  connectionName,
  createConnection,
  StatusBoard,
  trackStatus,
} from './redis-streams.connection';
import {
  DATA_FIELD,
  NOT_INITIALIZED_SERVER,
  PATTERN_FIELD,
  REDIS_STREAMS_TRANSPORT,
} from './redis-streams.constants';
import { RedisStreamsContext } from './redis-streams.context';
import {
  RedisStreamsConnectionRole,
  RedisStreamsEvents,
  RedisStreamsStatus,
} from './redis-streams.events';
import { AckBatcher } from './redis-streams.ack-batcher';
import { renewLeases } from './redis-streams.lease';
import {
  resolveServerOptions,
  resolveStreams,
  type RedisStreamsClusterConnection,
  type ResolvedServerOptions,
  type RedisStreamsServerOptions,
} from './redis-streams.options';
import {
  decodeEntry,
  describeError,
  isRedisError,
  parseAutoClaimReply,
  parseReadReply,
  type RawStreamEntry,
  type StreamBatch,
} from './redis-streams.parser';
import { CapacityGate, delay, KeyedSerializer, Semaphore } from './redis-streams.scheduler';

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

/** Backlog of one stream for the group. */
export interface RedisStreamsLag {
  stream: string;
  partition: number;
  /** Entries delivered to the group but not acknowledged (XPENDING summary). */
  pending: number;
  /**
   * Entries not yet delivered to the group: XINFO GROUPS `lag` (Redis 7+), else entries-added
   * minus the group's entries-read when both are known, else null.
   */
  lag: number | null;
  lastDeliveredId: string | null;
}

export interface RedisStreamsCapabilities {
  /** XACKDEL (Redis 8.2+). */
  xackdel: boolean;
}

type EntrySource = 'new' | 'pending' | 'claimed';

type HandlerOutcome = { ok: true } | { ok: false; error: unknown };

interface HeldEntry {
  stream: string;
  partition: number;
  id: string;
  deliveryCount: number;
  /** Another consumer took the entry over (or it left the PEL): do not start it. */
  lost: boolean;
}

type PendingListener = {
  event: keyof RedisStreamsEvents;
  callback: RedisStreamsEvents[keyof RedisStreamsEvents];
};

/** Cluster mode: the read loop of the streams of one hash slot, and its connection. */
interface SlotReader {
  slot: number;
  streams: string[];
  /** Member of the status board, e.g. `reader:1234`. */
  name: string;
  /** Standalone connection to the master serving the slot (replaced when the slot moves). */
  client: Redis | undefined;
  /** `host:port` of `client`. */
  node: string | undefined;
  /** The topology moved the slot to this node: reconnect there (not a failure). */
  relocateTo: string | undefined;
  loop: Promise<void> | undefined;
  /** Settles once the first re-read of own pending entries is done (or the loop ended). */
  firstPending: Promise<void>;
  firstPendingDone: () => void;
}

/** Pause after an unexpected read error, so a persistent error does not spin. */
const READ_ERROR_BACKOFF_MS = 1_000;
/** A ready reader silent for BLOCK plus this long is considered dead, and reconnected. */
const READER_SILENCE_GRACE_MS = 10_000;
/** Attempts at acknowledging a handled entry before leaving it to the claim. */
const ACK_ATTEMPTS = 8;
/** Cluster: pause before retrying a read answered ASK / TRYAGAIN (its slot is migrating). */
const MIGRATION_RETRY_MS = 100;
/** Cluster: MOVED answers followed in a row before backing off like after an error. */
const MAX_CONSECUTIVE_MOVES = 5;

/**
 * Redis Streams transport: consumer groups over several partition streams, acknowledged after
 * the handler succeeded, retried in place, dead-lettered after `maxDeliveries`, with bounded
 * concurrency and per-key ordering. Handlers are plain `@EventPattern(pattern)` methods.
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

  private readonly partitions = new Map<string, number>();
  private slotReaders: SlotReader[] = [];
  private statusBoard: StatusBoard | undefined;
  /** Cluster mode: `on()` listeners, attached to every reader connection, present or future. */
  private readerListeners: PendingListener[] = [];
  private readonly abort = new AbortController();
  private readLoop: Promise<void> | undefined;
  private claimTimer: NodeJS.Timeout | undefined;
  private claimRun: Promise<void> | undefined;
  private readonly claimCursors = new Map<string, string>();
  private closing: Promise<void> | undefined;
  /** close() gave up waiting: late finishers must not acknowledge. */
  private abandoned = false;
  private groupsReady: Promise<void> | undefined;
  private capabilities: RedisStreamsCapabilities = { xackdel: false };

  private readonly held = new Map<string, HeldEntry>();
  /** Acknowledgements of handled entries, sent in batches per stream. */
  private readonly acks = new AckBatcher((stream, ids) => this.sendAcks(stream, ids));
  private readonly tasks = new Set<Promise<void>>();
  private readonly gate: CapacityGate;
  private readonly slots: Semaphore;
  private readonly ordering = new KeyedSerializer();
  private readonly counters = {
    processed: 0,
    failed: 0,
    deadLettered: 0,
    claimed: 0,
    trimmed: 0,
    ignored: 0,
  };

  constructor(protected readonly options: RedisStreamsServerOptions) {
    super();
    // Every retry and back-off waits on this signal (one listener each, removed when it ends):
    // hundreds at once are normal during a fail-over, not a leak.
    setMaxListeners(0, this.abort.signal);
    this.config = resolveServerOptions(options);
    this.cluster = isClusterConnection(options.connection) ? options.connection.cluster : undefined;
    this.gate = new CapacityGate(this.config.concurrency);
    this.slots = new Semaphore(this.config.concurrency);
    this.initializeDeserializer({ deserializer: options.deserializer });
  }

  listen(callback: (err?: unknown, ...optionalParams: unknown[]) => void): void {
    this.start().then(
      () => callback(),
      (err: unknown) => callback(err),
    );
  }

  /** Connects, creates the groups, then starts the (single) read loop. */
  protected async start(): Promise<void> {
    if (this.reader || this.commands)
      throw new Error('RedisStreamsServer: listen() was already called');
    this.streams = await resolveStreams(this.options.streams);
    this.streams.forEach((stream, index) => this.partitions.set(stream, index));
    if (this.cluster) return this.startCluster();
    const reader = (this.reader = this.createRedisClient('reader'));
    const commands = (this.commands = this.createRedisClient('commands'));
    if (reader === commands) {
      throw new Error(
        'RedisStreamsServer: the connection factory must return a new client per call',
      );
    }
    const clients = new Map<RedisStreamsConnectionRole, Redis>([
      ['reader', reader],
      ['commands', commands],
    ]);
    trackStatus({
      clients,
      logger: this.logger,
      isClosed: () => this.isExplicitlyClosed,
      emit: (status) => this._status$.next(status),
    });
    this.pendingEventListeners.forEach(({ event, callback }) =>
      clients.forEach((client, role) =>
        client.on(event, (...args: unknown[]) =>
          (callback as (...a: unknown[]) => void)(role, ...args),
        ),
      ),
    );
    this.pendingEventListeners = [];
    try {
      await Promise.all([connectClient(reader), connectClient(commands)]);
      await this.detectCapabilities();
      await this.ensureGroups();
    } catch (err) {
      this.isExplicitlyClosed = true;
      reader.disconnect();
      commands.disconnect();
      throw err;
    }
    if (this.isExplicitlyClosed) return;
    this.startReadLoop();
  }

  /**
   * Stops reading (the blocking connection is dropped, which aborts the BLOCK), waits up to
   * `shutdownTimeoutMs` for running handlers, then quits. Entries not finished stay pending, to
   * be re-read by this consumer on restart or claimed by another one. The consumer is never
   * deleted from the group.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  protected async shutdown(): Promise<void> {
    this.isExplicitlyClosed = true;
    this.abort.abort();
    clearTimeout(this.claimTimer);
    this.gate.wakeAll();
    this.reader?.disconnect();
    this.slotReaders.forEach((r) => r.client?.disconnect());
    await this.readLoop;
    await Promise.all(this.slotReaders.flatMap((r) => (r.loop ? [r.loop] : [])));
    await this.claimRun;
    if (!(await this.drain(this.config.shutdownTimeoutMs))) {
      this.abandoned = true;
      this.logger.warn(
        `${this.slots.running} handler(s) still running after ${this.config.shutdownTimeoutMs} ms; ` +
          'their entries stay pending and will be redelivered',
      );
    }
    await closeClient(this.commands);
    this.pendingEventListeners = [];
  }

  /**
   * `[reader, commands]`: the blocking connection and the command connection. In cluster mode
   * `[readers, commands]`: the current blocking connection of each slot (`Redis[]`) and the
   * `Cluster` client.
   */
  /**
   * Nest finds a handler by first JSON.parse-ing the pattern, which throws (and captures a stack
   * trace) for every plain string pattern such as `session.created`: 9 % of a busy worker's CPU.
   * A pattern equal to a registered (normalized) one needs no parse; any other goes Nest's way.
   */
  override getHandlerByPattern(pattern: string): MessageHandler | null {
    return this.messageHandlers.get(pattern) ?? super.getHandlerByPattern(pattern);
  }

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
    if (this.cluster && this.commands) {
      const listener: PendingListener = { event, callback };
      const cb = callback as (...args: unknown[]) => void;
      this.commands.on(event, (...args: unknown[]) => cb('commands', ...args));
      this.slotReaders.forEach((r) => r.client && this.attachListener(r.client, listener));
      this.readerListeners.push(listener);
    } else if (this.reader && this.commands) {
      const cb = callback as (...args: unknown[]) => void;
      this.reader.on(event, (...args: unknown[]) => cb('reader', ...args));
      this.commands.on(event, (...args: unknown[]) => cb('commands', ...args));
    } else {
      this.pendingEventListeners.push({ event, callback });
    }
  }

  /** Counters since creation, plus what is held and running now. */
  stats(): RedisStreamsStats {
    return { ...this.counters, inFlight: this.gate.value, running: this.slots.running };
  }

  /** Server features detected at start. */
  getCapabilities(): RedisStreamsCapabilities {
    return { ...this.capabilities };
  }

  /** The streams consumed, in partition order (resolved in listen()). */
  getStreams(): readonly string[] {
    return this.streams;
  }

  /** Per stream: entries pending in the group and entries not yet delivered to it. */
  async lag(): Promise<RedisStreamsLag[]> {
    const commands = this.requireCommands();
    return Promise.all(
      this.streams.map(async (stream, partition): Promise<RedisStreamsLag> => {
        const [summary, groups] = this.cluster
          ? await this.onNodeOf(
              stream,
              ['XPENDING', stream, this.config.group],
              ['XINFO', 'GROUPS', stream],
            )
          : await Promise.all([
              commands.call('XPENDING', stream, this.config.group),
              commands.call('XINFO', 'GROUPS', stream),
            ]);
        const pending = Array.isArray(summary) ? Number(summary[0]) : 0;
        const info = (Array.isArray(groups) ? groups : [])
          .map(toRecord)
          .find((g) => g.name === this.config.group);
        let lag = toNumber(info?.lag);
        if (lag === null && info) {
          const entriesRead = toNumber(info['entries-read']);
          if (entriesRead !== null) {
            const streamInfo = this.cluster
              ? (await this.onNodeOf(stream, ['XINFO', 'STREAM', stream]))[0]
              : await commands.call('XINFO', 'STREAM', stream);
            const added = toNumber(toRecord(streamInfo)['entries-added']);
            lag = added === null ? null : Math.max(added - entriesRead, 0);
          }
        }
        const lastDelivered = info?.['last-delivered-id'];
        return {
          stream,
          partition,
          pending,
          lag,
          lastDeliveredId: typeof lastDelivered === 'string' ? lastDelivered : null,
        };
      }),
    );
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

  createRetryStrategy(times: number): number | null {
    if (this.isExplicitlyClosed) return null;
    if (times > this.config.retryAttempts) {
      this.logger.error('Retry time exhausted');
      return null;
    }
    return this.config.retryDelay(times);
  }

  // ---------------------------------------------------------------------------------------------
  // Redis Cluster
  // ---------------------------------------------------------------------------------------------

  /**
   * Cluster mode: a `Cluster` client for every keyed command, then one read loop per hash slot
   * holding configured streams, each with a blocking connection of its own to the master serving
   * the slot (XREADGROUP over several keys needs them in one slot, and a blocking read occupies
   * its connection).
   */
  private async startCluster(): Promise<void> {
    this.checkDeadLetterSlots();
    const commands = this.createClusterClient();
    this.commands = commands;
    const board = (this.statusBoard = new StatusBoard(
      (status) => this._status$.next(status),
      () => this.isExplicitlyClosed,
    ));
    board.track('commands', commands, this.logger);
    this.slotReaders = groupBySlot(this.streams).map(({ slot, streams }) => {
      let firstPendingDone!: () => void;
      const firstPending = new Promise<void>((resolve) => (firstPendingDone = resolve));
      const reader: SlotReader = {
        slot,
        streams,
        name: `reader:${slot}`,
        client: undefined,
        node: undefined,
        relocateTo: undefined,
        loop: undefined,
        firstPending,
        firstPendingDone,
      };
      board.set(reader.name, 'connecting');
      return reader;
    });
    this.readerListeners = this.pendingEventListeners;
    this.pendingEventListeners = [];
    this.readerListeners.forEach(({ event, callback }) =>
      commands.on(event, (...args: unknown[]) =>
        (callback as (...a: unknown[]) => void)('commands', ...args),
      ),
    );
    commands.on('refresh', () => this.followTopology());
    try {
      await connectClient(commands);
      await this.detectCapabilities();
      await this.ensureGroups();
    } catch (err) {
      this.isExplicitlyClosed = true;
      commands.disconnect();
      throw err;
    }
    if (this.isExplicitlyClosed) return;
    for (const reader of this.slotReaders) {
      reader.loop = this.runSlotReader(reader)
        .catch((err: unknown) => {
          this.logger.error(`Read loop of slot ${reader.slot} stopped: ${describeError(err)}`);
        })
        .finally(() => reader.firstPendingDone());
    }
    // Claiming starts once own pending entries were re-read (as in standalone mode), or after
    // one claim interval when a slot's master cannot be reached (leases must be renewed).
    void Promise.race([
      Promise.all(this.slotReaders.map((r) => r.firstPending)),
      delay(this.config.claimIntervalMs, this.abort.signal),
    ]).then(() => this.scheduleClaim(0));
  }

  /** The `Cluster` client of cluster mode (commands role): routes each command by its key. */
  protected createClusterClient(): Cluster {
    return createClusterConnection({
      cluster: this.cluster!,
      nodeDefaults: {
        connectionName: connectionName(
          'streams',
          this.config.group,
          this.config.consumer,
          'commands',
        ),
      },
      retryStrategy: (times) => this.createRetryStrategy(times),
    });
  }

  /**
   * Cluster mode: the blocking connection reading one slot, to the master at `address`. It does
   * not reconnect by itself: its read loop reconnects, to wherever the slot is served by then.
   */
  protected createSlotReader(address: NodeAddress, slot: number): Redis {
    const { group, consumer } = this.config;
    return new Redis(
      clusterNodeOptions(
        this.cluster!,
        address,
        { connectionName: connectionName('streams', group, consumer, 'reader', String(slot)) },
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

  /** Every dead-letter stream must hash to its source's slot (one MULTI writes both). */
  private checkDeadLetterSlots(): void {
    for (const stream of this.streams) {
      const dead = this.config.deadLetterStream(stream);
      if (keySlot(dead) !== keySlot(stream)) {
        throw new Error(
          `RedisStreamsServer: on Redis Cluster the dead-letter stream "${dead}" must hash to the ` +
            `slot of "${stream}" (${keySlot(stream)}, not ${keySlot(dead)}): keep its hash tag, ` +
            `e.g. "${stream}:dead"`,
        );
      }
    }
  }

  /**
   * The read loop of one slot, ever (exactly one per slot, for the server's lifetime): connects
   * to the slot's master, re-reads own pending entries after each (re)connection, then blocks on
   * XREADGROUP. MOVED (slot moved, or its master was replaced) reconnects to the new node at
   * once; ASK / TRYAGAIN (slot migrating) retries shortly; a lost connection or CLUSTERDOWN
   * refreshes the slot map and retries with `retryDelay` (a lost connection counting against
   * `retryAttempts`).
   */
  private async runSlotReader(r: SlotReader): Promise<void> {
    const ids = r.streams.map(() => '>');
    let connectionFailures = 0;
    let errors = 0;
    let moves = 0;
    let movedTo: string | undefined;
    let fresh = true;
    while (!this.isExplicitlyClosed) {
      let node = r.node;
      try {
        // The slot map is consulted only to (re)connect: ioredis patches it in place on MOVED,
        // briefly wrong for the other slots of the range until its refresh.
        const connected = r.client !== undefined && r.client.status !== 'end';
        node = movedTo ?? r.relocateTo ?? (connected ? r.node : this.masterOf(r.slot));
        movedTo = r.relocateTo = undefined;
        if (!node) throw new Error(`no master known for slot ${r.slot}`);
        if (!r.client || r.client.status === 'end' || r.node !== node) {
          await this.connectSlotReader(r, node);
          fresh = true;
        }
        const client = r.client!;
        if (this.isExplicitlyClosed) break;
        if (fresh) {
          await this.readOwnPending(client, r.streams, rethrow);
          fresh = false;
          r.firstPendingDone();
        }
        await this.gate.waitForRoom();
        if (this.isExplicitlyClosed) break;
        const reply = await this.watchRead(
          client,
          false,
          this.readGroup(client, r.streams, ids, this.config.blockMs),
        );
        connectionFailures = errors = moves = 0;
        this.statusBoard?.set(r.name, 'ready');
        // Entries read while closing stay pending: re-read on restart or claimed elsewhere.
        if (this.isExplicitlyClosed) break;
        await this.dispatchBatches(parseReadReply(reply), 'new');
      } catch (caught) {
        if (this.isExplicitlyClosed) break;
        if (r.relocateTo) continue; // the topology moved the slot: read there
        let err = caught;
        const redirection = parseRedirection(err);
        if (redirection?.kind === 'MOVED') {
          movedTo = mapNodeKey(this.cluster?.options, redirection.node);
          this.logger.log(
            `Slot ${r.slot} moved from ${node} to ${movedTo}; reading ${r.streams.join(', ')} there`,
          );
          // Nodes still disagreeing (gossip in progress) after a few hops: back off below.
          if (++moves <= MAX_CONSECUTIVE_MOVES) continue;
        }
        if (
          redirection?.kind === 'ASK' ||
          isRedisError(err, 'TRYAGAIN') ||
          // Redis 7: a BLOCK is ended so when MIGRATE moves its stream away (or it is deleted).
          isRedisError(err, 'UNBLOCKED')
        ) {
          // The slot is migrating: the node answers MOVED once it is done.
          this.logger.debug(`Slot ${r.slot} is migrating (${describeError(err)}); waiting`);
          await delay(MIGRATION_RETRY_MS, this.abort.signal);
          continue;
        }
        if (isRedisError(err, 'NOGROUP')) {
          this.logger.warn(`Consumer group missing, re-creating it: ${describeError(err)}`);
          try {
            await this.ensureGroups();
            continue;
          } catch (createErr) {
            err = createErr;
          }
        }
        const connectionLost = !r.client || r.client.status !== 'ready';
        if (connectionLost && ++connectionFailures > this.config.retryAttempts) {
          this.logger.error(
            `Reading slot ${r.slot} failed: ${describeError(err)}; retry time exhausted`,
          );
          r.client?.disconnect();
          this.statusBoard?.set(r.name, 'end');
          return;
        }
        const wait = this.config.retryDelay(++errors);
        this.statusBoard?.set(r.name, 'reconnecting');
        this.logger.error(
          `Reading slot ${r.slot} (${node ?? 'no node'}) failed: ${describeError(err)}; ` +
            `retrying in ${wait} ms`,
        );
        if (connectionLost) {
          r.client?.disconnect();
          r.client = undefined;
        }
        await Promise.all([this.refreshSlots(), delay(wait, this.abort.signal)]);
      }
    }
  }

  /** Replaces the slot's connection with a new one to `node` (`host:port`). */
  private async connectSlotReader(r: SlotReader, node: string): Promise<void> {
    const previous = r.client;
    r.client = undefined;
    previous?.disconnect();
    const client = this.createSlotReader(parseNodeKey(node), r.slot);
    r.client = client;
    r.node = node;
    client.on('error', (err: Error) => {
      // Reported by the read loop; ioredis emits it too.
      if (!this.isExplicitlyClosed)
        this.logger.debug(`Redis (${r.name} @ ${node}): ${err.message}`);
    });
    client.on('ready', () => {
      if (r.client === client) this.statusBoard?.set(r.name, 'ready');
    });
    this.readerListeners.forEach((listener) => this.attachListener(client, listener));
    if (this.isExplicitlyClosed) {
      client.disconnect();
      return;
    }
    await connectClient(client);
    if (this.isExplicitlyClosed) client.disconnect();
    else this.logger.log(`Reading ${r.streams.join(', ')} (slot ${r.slot}) from ${node}`);
  }

  private attachListener(client: Redis, { event, callback }: PendingListener): void {
    client.on(event, (...args: unknown[]) =>
      (callback as (...a: unknown[]) => void)('reader', ...args),
    );
  }

  /** `host:port` of the master serving `slot`, per the Cluster client's slot map. */
  private masterOf(slot: number): string | undefined {
    return this.commands instanceof Cluster ? this.commands.slots[slot]?.[0] : undefined;
  }

  /** Refreshes the Cluster client's slot map; never rejects; settles at once on close(). */
  private refreshSlots(): Promise<void> {
    const commands = this.commands;
    const { signal } = this.abort;
    if (!(commands instanceof Cluster) || signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      signal.addEventListener('abort', done, { once: true });
      commands.refreshSlotsCache(done);
    });
  }

  /**
   * After the Cluster client refreshed its slot map: a reader whose slot is now served by another
   * master is moved there (its BLOCK is aborted by dropping the connection). Redis would redirect
   * it too (a client blocked on a slot its node lost gets MOVED within about a second).
   */
  private followTopology(): void {
    if (this.isExplicitlyClosed) return;
    for (const r of this.slotReaders) {
      const master = this.masterOf(r.slot);
      if (!master || !r.client || r.client.status !== 'ready' || r.node === master) continue;
      if (r.relocateTo) continue;
      this.logger.log(
        `Slot ${r.slot} is now served by ${master}, not ${r.node}: moving its reader`,
      );
      r.relocateTo = master;
      r.client.disconnect();
    }
  }

  /**
   * Cluster: commands ioredis cannot route (it knows no key position for XINFO, XGROUP, XACKDEL)
   * are pipelined behind `EXISTS key`, which sends the pipeline to the node serving the key and
   * makes it follow MOVED / ASK. Resolves with their replies; rejects with the first error.
   */
  private async onNodeOf(
    key: string,
    ...commands: [string, ...(string | number)[]][]
  ): Promise<unknown[]> {
    const pipeline = this.requireCommands().pipeline().exists(key);
    commands.forEach(([name, ...args]) => pipeline.call(name, ...args));
    const results = (await pipeline.exec()) ?? [];
    const failure = results.find(([err]) => err)?.[0];
    if (failure) throw failure;
    return results.slice(1).map(([, reply]) => reply);
  }

  private requireCommands(): Redis | Cluster {
    if (!this.commands) throw new Error(NOT_INITIALIZED_SERVER);
    return this.commands;
  }

  private async detectCapabilities(): Promise<void> {
    try {
      const info = await this.requireCommands().call('COMMAND', 'INFO', 'XACKDEL');
      this.capabilities = { xackdel: Array.isArray(info) && Array.isArray(info[0]) };
    } catch {
      this.capabilities = { xackdel: false };
    }
  }

  /** XGROUP CREATE ... MKSTREAM on every stream; an existing group (BUSYGROUP) is fine. */
  protected ensureGroups(): Promise<void> {
    this.groupsReady ??= Promise.all(
      this.streams.map(async (stream) => {
        try {
          if (this.cluster) {
            const { group, startId } = this.config;
            await this.onNodeOf(stream, ['XGROUP', 'CREATE', stream, group, startId, 'MKSTREAM']);
          } else {
            await this.requireCommands().call(
              'XGROUP',
              'CREATE',
              stream,
              this.config.group,
              this.config.startId,
              'MKSTREAM',
            );
          }
        } catch (err) {
          if (isRedisError(err, 'BUSYGROUP')) return;
          // Creating is a write: a Redis refusing writes (out of memory, a read-only replica
          // during a fail-over) must not stop a consumer whose group is already there.
          if (!(await this.groupExists(stream))) throw err;
        }
      }),
    )
      .then(() => undefined)
      .finally(() => {
        this.groupsReady = undefined;
      });
    return this.groupsReady;
  }

  /** Whether `stream` has this server's group (XINFO GROUPS: a read); false when it is missing. */
  private async groupExists(stream: string): Promise<boolean> {
    try {
      const groups = (
        this.cluster
          ? (await this.onNodeOf(stream, ['XINFO', 'GROUPS', stream]))[0]
          : await this.requireCommands().call('XINFO', 'GROUPS', stream)
      ) as unknown[][];
      return groups.some((group) => group[group.indexOf('name') + 1] === this.config.group);
    } catch {
      return false;
    }
  }

  /** Exactly one read loop per server, whatever happens to the connections. */
  private startReadLoop(): void {
    if (this.readLoop) return;
    this.readLoop = this.runReadLoop().catch((err: unknown) => {
      this.logger.error(`Read loop stopped: ${describeError(err)}`);
    });
  }

  private async runReadLoop(): Promise<void> {
    await this.readOwnPending(this.reader!, this.streams, (err) => this.onReadError(err));
    if (this.isExplicitlyClosed) return;
    this.scheduleClaim(0);
    const ids = this.streams.map(() => '>');
    while (!this.isExplicitlyClosed) {
      await this.gate.waitForRoom();
      if (this.isExplicitlyClosed) break;
      try {
        const reader = this.reader!;
        const reply = await this.watchRead(
          reader,
          true,
          this.readGroup(reader, this.streams, ids, this.config.blockMs),
        );
        // Entries read while closing stay pending: re-read on restart or claimed elsewhere.
        if (this.isExplicitlyClosed) break;
        await this.dispatchBatches(parseReadReply(reply), 'new');
      } catch (err) {
        if (!(await this.onReadError(err))) break;
      }
    }
  }

  /**
   * A half-open TCP connection never answers the BLOCK: if the reader looks ready but stays
   * silent for BLOCK + grace, drop the socket and reconnect (standalone: ioredis re-sends the
   * read; cluster: the read fails and the slot's loop connects again).
   */
  /**
   * XREADGROUP of this consumer: `ids` per stream ('>' for new entries, an id to page through
   * its own pending ones); blocks up to `blockMs` when given.
   */
  private readGroup(
    client: Redis,
    streams: readonly string[],
    ids: readonly string[],
    blockMs?: number,
  ): Promise<unknown> {
    const { group, consumer, batchSize } = this.config;
    const block = blockMs === undefined ? [] : ['BLOCK', blockMs];
    return client.call(
      'XREADGROUP',
      'GROUP',
      group,
      consumer,
      'COUNT',
      batchSize,
      ...block,
      'STREAMS',
      ...streams,
      ...ids,
    );
  }

  private async watchRead<T>(reader: Redis, reconnect: boolean, read: Promise<T>): Promise<T> {
    const limit = this.config.blockMs + READER_SILENCE_GRACE_MS;
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      timer = setTimeout(() => {
        if (this.isExplicitlyClosed) return;
        if (reader.status === 'ready') {
          this.logger.warn(`No reply to XREADGROUP within ${limit} ms; reconnecting the reader`);
          reader.disconnect(reconnect);
        }
        arm();
      }, limit);
    };
    arm();
    try {
      return await read;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * This consumer's own pending entries first (XREADGROUP with id 0, which ignores BLOCK): what
   * a previous run of this consumer read but did not acknowledge. Paged per stream. `onError`
   * returns whether to go on (or throws).
   */
  private async readOwnPending(
    reader: Redis,
    streams: readonly string[],
    onError: (err: unknown) => Promise<boolean>,
  ): Promise<void> {
    const cursors = new Map(streams.map((stream) => [stream, '0']));
    while (cursors.size > 0 && !this.isExplicitlyClosed) {
      await this.gate.waitForRoom();
      if (this.isExplicitlyClosed) return;
      const keys = [...cursors.keys()];
      let batches: StreamBatch[];
      try {
        const reply = await this.readGroup(
          reader,
          keys,
          keys.map((key) => cursors.get(key)!),
        );
        batches = parseReadReply(reply);
      } catch (err) {
        if (!(await onError(err))) return;
        continue;
      }
      for (const key of keys) {
        const entries = batches.find((b) => b.stream === key)?.entries ?? [];
        if (entries.length === 0) cursors.delete(key);
        else cursors.set(key, entries[entries.length - 1].id);
      }
      if (this.isExplicitlyClosed) return;
      await this.dispatchBatches(batches, 'pending');
    }
  }

  /** Returns false when the loop must stop. */
  private async onReadError(err: unknown): Promise<boolean> {
    if (this.isExplicitlyClosed || this.reader?.status === 'end') return false;
    if (isRedisError(err, 'NOGROUP')) {
      // The stream or group vanished (deleted, or Redis restarted without persistence).
      this.logger.warn(`Consumer group missing, re-creating it: ${describeError(err)}`);
      try {
        await this.ensureGroups();
        return true;
      } catch (createErr) {
        err = createErr;
      }
    }
    this.logger.error(`Reading streams failed: ${describeError(err)}`);
    await delay(READ_ERROR_BACKOFF_MS, this.abort.signal);
    return !this.isExplicitlyClosed;
  }

  private scheduleClaim(ms: number): void {
    if (this.isExplicitlyClosed) return;
    this.claimTimer = setTimeout(() => {
      this.claimRun = this.claimTick()
        .catch((err: unknown) => this.logger.error(`Claiming failed: ${describeError(err)}`))
        .finally(() => {
          this.claimRun = undefined;
          this.scheduleClaim(this.config.claimIntervalMs);
        });
    }, ms);
  }

  /** Renews the leases of held entries, then takes over idle entries of dead consumers. */
  private async claimTick(): Promise<void> {
    await this.renewHeldLeases();
    const { group, consumer, claimIdleMs, batchSize } = this.config;
    const commands = this.requireCommands();
    for (const stream of this.streams) {
      const room = this.gate.free;
      if (this.isExplicitlyClosed || room <= 0) return;
      let reply: unknown;
      try {
        reply = await commands.call(
          'XAUTOCLAIM',
          stream,
          group,
          consumer,
          claimIdleMs,
          this.claimCursors.get(stream) ?? '0-0',
          'COUNT',
          Math.min(batchSize, room),
        );
      } catch (err) {
        if (!isRedisError(err, 'NOGROUP')) {
          // Cluster: one master down must not stop claiming on the others.
          if (!this.cluster) throw err;
          this.logger.error(`Claiming on ${stream} failed: ${describeError(err)}`);
          continue;
        }
        await this.ensureGroups();
        continue;
      }
      const { cursor, entries, deletedIds } = parseAutoClaimReply(reply);
      this.claimCursors.set(stream, cursor);
      // Redis 7 drops deleted entries from the PEL itself and reports their ids.
      if (deletedIds.length > 0) this.skipTrimmed(stream, deletedIds);
      // Claimed while closing: they stay pending (owned by us) and become claimable again.
      if (this.isExplicitlyClosed) return;
      await this.dispatchBatches([{ stream, entries }], 'claimed');
    }
  }

  private async renewHeldLeases(): Promise<void> {
    const byStream = new Map<string, HeldEntry[]>();
    for (const entry of this.held.values()) {
      const list = byStream.get(entry.stream) ?? [];
      list.push(entry);
      byStream.set(entry.stream, list);
    }
    for (const [stream, entries] of byStream) {
      if (this.isExplicitlyClosed) return;
      try {
        const renewed = new Set(
          await renewLeases(
            this.requireCommands(),
            stream,
            this.config.group,
            this.config.consumer,
            entries.map((e) => e.id),
          ),
        );
        const lost = entries.filter((e) => !renewed.has(e.id) && this.held.get(heldKey(e)) === e);
        lost.forEach((e) => (e.lost = true));
        if (lost.length > 0) {
          this.logger.warn(
            `${lost.length} entr${lost.length === 1 ? 'y' : 'ies'} of ${stream} no longer owned by ` +
              `${this.config.consumer} (claimed elsewhere or gone); not starting them`,
          );
        }
      } catch (err) {
        this.logger.error(`Renewing leases on ${stream} failed: ${describeError(err)}`);
      }
    }
  }

  private async dispatchBatches(batches: StreamBatch[], source: EntrySource): Promise<void> {
    for (const { stream, entries } of batches) {
      const partition = this.partitions.get(stream);
      if (partition === undefined) continue;
      const fresh = entries.filter((e) => !this.held.has(heldKey({ stream, id: e.id })));
      const trimmed = fresh.filter((e) => e.fields === null).map((e) => e.id);
      if (trimmed.length > 0) this.skipTrimmed(stream, trimmed);
      const live = fresh.filter((e) => e.fields !== null);
      if (live.length === 0) continue;
      const counts =
        source === 'new'
          ? undefined
          : await this.deliveryCounts(
              stream,
              live.map((e) => e.id),
            );
      for (const entry of live) {
        const deliveryCount = counts ? counts.get(entry.id) : 1;
        // Not pending for this consumer any more (acknowledged or taken over meanwhile), or
        // dispatched by the other path (read loop / claim tick) while XPENDING was answering.
        if (deliveryCount === undefined || this.held.has(heldKey({ stream, id: entry.id })))
          continue;
        if (source === 'claimed') this.counters.claimed++;
        this.dispatch({ stream, partition, id: entry.id, deliveryCount, lost: false }, entry);
      }
    }
  }

  /** Times-delivered counters (XPENDING) of entries this consumer owns. */
  private async deliveryCounts(stream: string, ids: string[]): Promise<Map<string, number>> {
    const pipeline = this.requireCommands().pipeline();
    ids.forEach((id) => pipeline.xpending(stream, this.config.group, id, id, 1));
    const results = (await pipeline.exec()) ?? [];
    const counts = new Map<string, number>();
    results.forEach(([err, reply], i) => {
      if (err || !Array.isArray(reply) || !Array.isArray(reply[0])) return;
      const [id, owner, , count] = reply[0] as unknown[];
      if (id === ids[i] && owner === this.config.consumer) counts.set(ids[i], Number(count));
    });
    return counts;
  }

  /** Entries deleted from the stream while pending: acknowledge, count, move on. */
  private skipTrimmed(stream: string, ids: string[]): void {
    this.counters.trimmed += ids.length;
    this.logger.warn(
      `${ids.length} pending entr${ids.length === 1 ? 'y' : 'ies'} of ${stream} were trimmed; skipped`,
    );
    this.requireCommands()
      .call('XACK', stream, this.config.group, ...ids)
      .catch((err: unknown) =>
        this.logger.error(`XACK of trimmed entries failed: ${describeError(err)}`),
      );
  }

  /**
   * Takes an entry in charge: decoded and keyed synchronously, so entries of one key are chained
   * in the order they were read; the handler runs later, within the concurrency limit.
   */
  private dispatch(entry: HeldEntry, raw: RawStreamEntry): void {
    const key = heldKey(entry);
    this.held.set(key, entry);
    this.gate.increment();
    const fields = raw.fields ?? {};
    let task: Promise<void>;
    const decoded = decodeEntry(fields);
    if (!decoded.ok) {
      task = this.deadLetter(entry, fields, decoded.reason, true);
    } else {
      let orderingKey: string | undefined;
      let keyError: unknown;
      try {
        orderingKey = this.config.orderingKey?.(decoded.data, decoded.pattern);
      } catch (err) {
        keyError = err;
      }
      task =
        keyError === undefined
          ? this.ordering.run(orderingKey, () =>
              this.process(entry, decoded.pattern, decoded.data, fields),
            )
          : this.deadLetter(entry, fields, `orderingKey failed: ${describeError(keyError)}`, true);
    }
    const tracked: Promise<void> = task
      .catch((err: unknown) =>
        this.logger.error(`Entry ${entry.stream} ${entry.id} failed: ${describeError(err)}`),
      )
      .finally(() => {
        this.held.delete(key);
        this.tasks.delete(tracked);
        this.gate.decrement();
      });
    this.tasks.add(tracked);
  }

  private mustNotStart(entry: HeldEntry): boolean {
    return this.isExplicitlyClosed || entry.lost;
  }

  private async process(
    entry: HeldEntry,
    rawPattern: string,
    rawData: unknown,
    fields: Record<string, string>,
  ): Promise<void> {
    if (this.mustNotStart(entry)) return;
    const { maxDeliveries } = this.config;
    if (entry.deliveryCount > maxDeliveries) {
      await this.deadLetter(
        entry,
        fields,
        `Delivered ${entry.deliveryCount} times (maxDeliveries ${maxDeliveries}) without being acknowledged`,
      );
      return;
    }
    let packet: IncomingRequest | IncomingEvent;
    try {
      packet = await this.deserializer.deserialize(
        { pattern: rawPattern, data: rawData },
        { channel: entry.stream },
      );
    } catch (err) {
      await this.deadLetter(entry, fields, `Deserialization failed: ${describeError(err)}`, true);
      return;
    }
    const pattern =
      typeof packet.pattern === 'string'
        ? packet.pattern
        : this.normalizePattern(packet.pattern as MsPattern);
    const handler = this.getHandlerByPattern(pattern);
    if (!handler) {
      if (this.mustNotStart(entry)) return;
      this.logger.debug(
        `No event handler for pattern "${pattern}" (${entry.stream} ${entry.id}); acknowledged`,
      );
      await this.ack(entry);
      this.counters.ignored++;
      return;
    }
    for (;;) {
      if (this.mustNotStart(entry)) return;
      await this.slots.acquire();
      let error: unknown;
      try {
        if (this.mustNotStart(entry)) return;
        const ctx = new RedisStreamsContext([
          entry.stream,
          entry.id,
          entry.deliveryCount,
          entry.partition,
          this.config.group,
          this.config.consumer,
          pattern,
        ]);
        const outcome = await this.invokeHandler(handler, packet.data, ctx);
        if (outcome.ok) {
          this.counters.processed++;
          if (!this.abandoned) await this.ack(entry);
          return;
        }
        error = outcome.error;
        this.counters.failed++;
        if (entry.deliveryCount >= maxDeliveries) {
          if (!this.abandoned) await this.deadLetter(entry, fields, describeError(error));
          return;
        }
      } finally {
        this.slots.release();
      }
      const wait = this.config.retryDelayMs(entry.deliveryCount);
      this.logger.warn(
        `Handler of "${pattern}" failed for ${entry.stream} ${entry.id} (delivery ` +
          `${entry.deliveryCount}/${maxDeliveries}): ${describeError(error)}; retrying in ${wait} ms`,
      );
      // The slot is free meanwhile, but the ordering key stays blocked: order holds.
      if (!(await delay(wait, this.abort.signal))) return;
      if (!(await this.recordRedelivery(entry))) return;
    }
  }

  /** Bumps the entry's delivery counter in Redis (XCLAIM RETRYCOUNT) if it is still ours. */
  private async recordRedelivery(entry: HeldEntry): Promise<boolean> {
    const next = entry.deliveryCount + 1;
    const renewed = await renewLeases(
      this.requireCommands(),
      entry.stream,
      this.config.group,
      this.config.consumer,
      [entry.id],
      next,
    );
    if (renewed.length === 0) {
      entry.lost = true;
      this.logger.warn(
        `${entry.stream} ${entry.id} was taken over or acknowledged elsewhere; not retrying`,
      );
      return false;
    }
    entry.deliveryCount = next;
    return true;
  }

  /**
   * Runs a handler through Nest's processing hooks; settles when its result (value, Promise or
   * Observable) has completed, with the handler's error if any (Nest hands over exceptions as
   * `{ status, message }` objects, not Errors).
   */
  private invokeHandler(
    handler: MessageHandler,
    data: unknown,
    ctx: RedisStreamsContext,
  ): Promise<HandlerOutcome> {
    const transportId = this.transportId;
    return new Promise<HandlerOutcome>((resolve) => {
      const done = async (): Promise<void> => {
        try {
          const result: unknown = await handler(data, ctx);
          await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
          resolve({ ok: true });
        } catch (error) {
          resolve({ ok: false, error });
        } finally {
          this.onProcessingEndHook?.(transportId, ctx);
        }
      };
      try {
        const hooked: unknown = this.onProcessingStartHook(transportId, ctx, done);
        if (hooked instanceof Promise) {
          hooked.catch((error: unknown) => resolve({ ok: false, error }));
        }
      } catch (error) {
        resolve({ ok: false, error });
      }
    });
  }

  /**
   * Acknowledges a handled entry, retrying a failed XACK (its node fails over, the connection
   * drops) with `retryDelay`: left unacknowledged, the entry would be handled again only after
   * `claimIdleMs`. XACK is idempotent, so a retry after a lost reply is harmless.
   */
  private async ack(entry: HeldEntry): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.sendAck(entry);
        return;
      } catch (err) {
        if (attempt >= ACK_ATTEMPTS || this.isExplicitlyClosed) throw err;
        const wait = this.config.retryDelay(attempt);
        this.logger.warn(
          `XACK of ${entry.stream} ${entry.id} failed: ${describeError(err)}; retrying in ${wait} ms`,
        );
        if (!(await delay(wait, this.abort.signal))) throw err;
      }
    }
  }

  private sendAck(entry: HeldEntry): Promise<void> {
    return this.acks.ack(entry.stream, entry.id);
  }

  /** One XACK (XACKDEL with `deleteAcked`) for a batch of handled entries of one stream. */
  private async sendAcks(stream: string, ids: string[]): Promise<void> {
    const { group } = this.config;
    const commands = this.requireCommands();
    if (this.config.deleteAcked && this.capabilities.xackdel) {
      const command: [string, ...(string | number)[]] = [
        'XACKDEL',
        stream,
        group,
        'ACKED',
        'IDS',
        ids.length,
        ...ids,
      ];
      if (this.cluster) await this.onNodeOf(stream, command);
      else await commands.call(...command);
    } else {
      await commands.call('XACK', stream, group, ...ids);
    }
  }

  /** XADD to the dead-letter stream and XACK, in one MULTI. */
  private async deadLetter(
    entry: HeldEntry,
    fields: Record<string, string>,
    error: string,
    malformed = false,
  ): Promise<void> {
    if (this.abandoned) return;
    const target = this.config.deadLetterStream(entry.stream);
    const record: (string | number)[] = [
      PATTERN_FIELD,
      fields[PATTERN_FIELD] ?? '',
      DATA_FIELD,
      fields[DATA_FIELD] ?? '',
      'error',
      error,
      'deliveryCount',
      entry.deliveryCount,
      'originalStream',
      entry.stream,
      'originalId',
      entry.id,
      'group',
      this.config.group,
      'consumer',
      this.config.consumer,
      'deadLetteredAt',
      Date.now(),
    ];
    if (malformed) record.push('fields', JSON.stringify(fields));
    // A length backstop: a flood of poison entries must not fill Redis.
    const { deadLetterMaxLen } = this.config;
    const trim = deadLetterMaxLen > 0 ? ['MAXLEN', '~', deadLetterMaxLen] : [];
    const results = await this.requireCommands()
      .multi()
      .call('XADD', target, ...trim, '*', ...record)
      .call('XACK', entry.stream, this.config.group, entry.id)
      .exec();
    const failure = results?.find(([err]) => err)?.[0];
    if (!results || failure) throw failure ?? new Error('Dead-letter transaction aborted');
    this.counters.deadLettered++;
    this.logger.warn(`Dead-lettered ${entry.stream} ${entry.id} to ${target}: ${error}`);
  }

  /** Waits for dispatched entries; false when `timeoutMs` passed first. */
  private async drain(timeoutMs: number): Promise<boolean> {
    if (this.tasks.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const drained = Promise.allSettled([...this.tasks]).then(() => true);
    try {
      return await Promise.race([drained, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** readOwnPending's error handler in cluster mode: errors go to the slot's loop. */
function rethrow(err: unknown): Promise<boolean> {
  throw err;
}

function heldKey(entry: { stream: string; id: string }): string {
  return `${entry.stream}\u0000${entry.id}`;
}

/** `[k1, v1, k2, v2, ...]` → record (XINFO replies). */
function toRecord(raw: unknown): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  if (!Array.isArray(raw)) return record;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (typeof raw[i] === 'string') record[raw[i] as string] = raw[i + 1];
  }
  return record;
}

function toNumber(value: unknown): number | null {
  if (value === null || value === undefined || value === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}
