import type { Cluster, ClusterOptions, Redis } from 'ioredis';
import {
  mapNodeKey,
  parseNodeKey,
  parseRedirection,
  type NodeAddress,
} from './redis-streams.cluster';
import { connectClient } from './redis-streams.connection';
import type { Dispatcher } from './redis-streams.dispatcher';
import type { ConsumerGroups } from './redis-streams.groups';
import { readGroup, readOwnPending, watchRead } from './redis-streams.group-reads';
import { describeError, isRedisError, parseReadReply } from './redis-streams.parser';
import type { ServerRuntime } from './redis-streams.runtime';
import { delay } from './redis-streams.scheduler';
import type { StatusBoard } from './redis-streams.status';

/** Pause before retrying a read answered ASK / TRYAGAIN / UNBLOCKED (its slot is migrating). */
export const MIGRATION_RETRY_MS = 100;
/** MOVED answers followed in a row before backing off like after an error. */
export const MAX_CONSECUTIVE_MOVES = 5;

export interface SlotReaderDeps {
  runtime: ServerRuntime;
  /** The Cluster client: its slot map says where to read. */
  cluster: Cluster;
  clusterOptions: ClusterOptions | undefined;
  dispatcher: Dispatcher;
  groups: ConsumerGroups;
  board: StatusBoard;
  /** A new (lazy, non-reconnecting) connection to the master at `address` for `slot`. */
  connect: (address: NodeAddress, slot: number) => Redis;
  /** Called on every new connection (the server's `on()` listeners). */
  onConnection: (client: Redis) => void;
}

/**
 * Redis Cluster: the read loop of the streams of one hash slot, ever, on a standalone blocking
 * connection to the master serving the slot. Connects, re-reads own pending entries after each
 * (re)connection, then blocks on XREADGROUP. MOVED (slot moved, master replaced) reconnects to the
 * node named at once; ASK / TRYAGAIN / UNBLOCKED (slot migrating) retries shortly; a lost
 * connection or CLUSTERDOWN refreshes the slot map and retries with `retryDelay` (a lost
 * connection counting against `retryAttempts`). The connection never reconnects by itself, so a
 * slot never has two reads in flight.
 */
export class SlotReader {
  /** Member of the status board, e.g. `reader:1234`. */
  readonly name: string;
  /** Connection to the master serving the slot (replaced when the slot moves). */
  client: Redis | undefined;
  /** `host:port` of `client`. */
  node: string | undefined;
  private relocateTo: string | undefined;
  private loop: Promise<void> | undefined;
  private pendingReadDone!: () => void;
  /** Settles once own pending entries were first re-read (or the loop ended). */
  readonly firstPendingRead = new Promise<void>((resolve) => (this.pendingReadDone = resolve));

  constructor(
    readonly slot: number,
    readonly streams: readonly string[],
    private readonly deps: SlotReaderDeps,
  ) {
    this.name = `reader:${slot}`;
    deps.board.set(this.name, 'connecting');
  }

  start(): void {
    this.loop ??= this.run()
      .catch((err: unknown) => {
        this.deps.runtime.logger.error(
          `Read loop of slot ${this.slot} stopped: ${describeError(err)}`,
        );
      })
      .finally(() => this.pendingReadDone());
  }

  /** Drops the connection (aborting the BLOCK) and waits for the loop to end. */
  async stop(): Promise<void> {
    this.client?.disconnect();
    await this.loop;
  }

  /**
   * The Cluster client's slot map names `master` for the slot: move the reader there (its BLOCK
   * is aborted by dropping the connection). Redis would redirect it too, within about a second.
   */
  follow(master: string | undefined): void {
    const { client } = this;
    if (!master || !client || client.status !== 'ready' || this.node === master) return;
    if (this.relocateTo) return;
    this.deps.runtime.logger.log(
      `Slot ${this.slot} is now served by ${master}, not ${this.node}: moving its reader`,
    );
    this.relocateTo = master;
    client.disconnect();
  }

  private async run(): Promise<void> {
    const { runtime, board } = this.deps;
    const ids = this.streams.map(() => '>');
    const failures = { connection: 0, errors: 0, moves: 0 };
    let movedTo: string | undefined;
    let fresh = true;
    while (!runtime.isClosed()) {
      let node = this.node;
      try {
        // The slot map is consulted only to (re)connect: ioredis patches it in place on MOVED,
        // briefly wrong for the other slots of the range until its refresh.
        const connected = this.client !== undefined && this.client.status !== 'end';
        node = movedTo ?? this.relocateTo ?? (connected ? this.node : this.masterOfSlot());
        movedTo = this.relocateTo = undefined;
        if (!node) throw new Error(`no master known for slot ${this.slot}`);
        if (!this.client || this.client.status === 'end' || this.node !== node) {
          await this.connectTo(node);
          fresh = true;
        }
        const client = this.client!;
        if (runtime.isClosed()) break;
        if (fresh) {
          await readOwnPending(runtime, this.deps.dispatcher, client, this.streams, rethrow);
          fresh = false;
          this.pendingReadDone();
        }
        await this.deps.dispatcher.waitForRoom();
        if (runtime.isClosed()) break;
        const read = readGroup(runtime, client, this.streams, ids, runtime.config.blockMs);
        const reply = await watchRead(runtime, client, false, read);
        failures.connection = failures.errors = failures.moves = 0;
        board.set(this.name, 'ready');
        // Entries read while closing stay pending: re-read on restart or claimed elsewhere.
        if (runtime.isClosed()) break;
        await this.deps.dispatcher.dispatchBatches(parseReadReply(reply), 'new');
      } catch (caught) {
        if (runtime.isClosed()) break;
        if (this.relocateTo) continue; // the topology moved the slot: read there
        const redirection = parseRedirection(caught);
        if (redirection?.kind === 'MOVED') {
          movedTo = mapNodeKey(this.deps.clusterOptions, redirection.node);
          runtime.logger.log(
            `Slot ${this.slot} moved from ${node} to ${movedTo}; reading ${this.streams.join(', ')} there`,
          );
          // Nodes still disagreeing (gossip in progress) after a few hops: back off below.
          if (++failures.moves <= MAX_CONSECUTIVE_MOVES) continue;
        }
        if (!(await this.recover(caught, redirection?.kind === 'ASK', node, failures))) return;
      }
    }
  }

  /** After a failed read: waits as the error calls for; false when the loop must stop. */
  private async recover(
    caught: unknown,
    asked: boolean,
    node: string | undefined,
    failures: { connection: number; errors: number },
  ): Promise<boolean> {
    const { runtime, board } = this.deps;
    let err = caught;
    // Redis 7 ends a BLOCK with UNBLOCKED when MIGRATE moves its stream away (or it is deleted).
    if (asked || isRedisError(err, 'TRYAGAIN') || isRedisError(err, 'UNBLOCKED')) {
      // The slot is migrating: the node answers MOVED once it is done.
      runtime.logger.debug(`Slot ${this.slot} is migrating (${describeError(err)}); waiting`);
      await delay(MIGRATION_RETRY_MS, runtime.signal);
      return true;
    }
    if (isRedisError(err, 'NOGROUP')) {
      runtime.logger.warn(`Consumer group missing, re-creating it: ${describeError(err)}`);
      try {
        await this.deps.groups.ensure();
        return true;
      } catch (createErr) {
        err = createErr;
      }
    }
    const connectionLost = !this.client || this.client.status !== 'ready';
    if (connectionLost && ++failures.connection > runtime.config.retryAttempts) {
      runtime.logger.error(
        `Reading slot ${this.slot} failed: ${describeError(err)}; retry time exhausted`,
      );
      this.client?.disconnect();
      board.set(this.name, 'end');
      return false;
    }
    const wait = runtime.config.retryDelay(++failures.errors);
    board.set(this.name, 'reconnecting');
    runtime.logger.error(
      `Reading slot ${this.slot} (${node ?? 'no node'}) failed: ${describeError(err)}; ` +
        `retrying in ${wait} ms`,
    );
    if (connectionLost) {
      this.client?.disconnect();
      this.client = undefined;
    }
    await Promise.all([this.refreshSlotMap(), delay(wait, runtime.signal)]);
    return true;
  }

  /** Replaces the slot's connection with a new one to `node` (`host:port`). */
  private async connectTo(node: string): Promise<void> {
    const { runtime, board } = this.deps;
    const previous = this.client;
    this.client = undefined;
    previous?.disconnect();
    const client = this.deps.connect(parseNodeKey(node), this.slot);
    this.client = client;
    this.node = node;
    client.on('error', (err: Error) => {
      // Reported by the read loop; ioredis emits it too.
      if (!runtime.isClosed())
        runtime.logger.debug(`Redis (${this.name} @ ${node}): ${err.message}`);
    });
    client.on('ready', () => {
      if (this.client === client) board.set(this.name, 'ready');
    });
    this.deps.onConnection(client);
    if (runtime.isClosed()) {
      client.disconnect();
      return;
    }
    await connectClient(client);
    if (runtime.isClosed()) client.disconnect();
    else runtime.logger.log(`Reading ${this.streams.join(', ')} (slot ${this.slot}) from ${node}`);
  }

  /** `host:port` of the master serving the slot, per the Cluster client's slot map. */
  private masterOfSlot(): string | undefined {
    return masterOf(this.deps.cluster, this.slot);
  }

  /** Refreshes the Cluster client's slot map; never rejects; settles at once on close(). */
  private refreshSlotMap(): Promise<void> {
    const { cluster, runtime } = this.deps;
    const { signal } = runtime;
    if (signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      signal.addEventListener('abort', done, { once: true });
      cluster.refreshSlotsCache(done);
    });
  }
}

/** `host:port` of the master serving `slot`, per a Cluster client's slot map. */
export function masterOf(cluster: Cluster, slot: number): string | undefined {
  return cluster.slots[slot]?.[0];
}

/** readOwnPending's error handler: errors go to the slot's loop. */
function rethrow(err: unknown): Promise<boolean> {
  throw err;
}
