import type { INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { RpcException } from '@nestjs/microservices';
import { Cluster, Redis } from 'ioredis';
import { lastValueFrom } from 'rxjs';
import {
  keySlot,
  readEntries,
  RedisStreamsClient,
  RedisStreamsServer,
  RedisStreamsStatus,
  type RedisStreamsClientOptions,
  type RedisStreamsServerOptions,
} from '@app/streams';
import {
  masterAndReplicaOf,
  moveSlot,
  onNode,
  replicaCaughtUp,
} from '../support/redis-cluster-admin';
import { RedisClusterProcess } from '../support/redis-cluster-process';
import { uniquePrefix } from '../support/test-redis';
import {
  Deferred,
  probeModule,
  settledWithin,
  TEST_LOGGER,
  waitFor,
  type ProbeHandler,
} from './streams-fixture';
import { sleep } from '../support/sleep';

jest.setTimeout(90_000);

const PARTITIONS = 16;

/** Counts XREADGROUP calls in flight per slot, over every reader connection the server makes. */
class CountingServer extends RedisStreamsServer {
  readonly inFlight = new Map<number, number>();
  readonly maxInFlight = new Map<number, number>();
  readers = 0;
  reads = 0;

  protected override createSlotReader(
    address: { host: string; port: number },
    slot: number,
  ): Redis {
    const client = super.createSlotReader(address, slot);
    this.readers++;
    const original = client.call.bind(client) as (...args: unknown[]) => Promise<unknown>;
    (client as unknown as { call: (...args: unknown[]) => Promise<unknown> }).call = async (
      ...args: unknown[]
    ) => {
      if (String(args[0]).toUpperCase() !== 'XREADGROUP') return original(...args);
      this.reads++;
      const now = (this.inFlight.get(slot) ?? 0) + 1;
      this.inFlight.set(slot, now);
      this.maxInFlight.set(slot, Math.max(this.maxInFlight.get(slot) ?? 0, now));
      try {
        return await original(...args);
      } finally {
        this.inFlight.set(slot, (this.inFlight.get(slot) ?? 1) - 1);
      }
    };
    return client;
  }
}

interface ClusterConsumer {
  app: INestMicroservice;
  server: CountingServer;
  statuses: RedisStreamsStatus[];
  close(): Promise<void>;
}

interface Handled {
  stream: string;
  id: string;
  key: string;
  seq: number;
  deliveries: number;
  partition?: number;
}

/** `host:port` of the master serving each slot, per CLUSTER SLOTS. */
async function slotOwners(redis: Cluster): Promise<(slot: number) => string> {
  const ranges = await redis.cluster('SLOTS');
  return (slot) => {
    const range = ranges.find(([from, to]) => slot >= from && slot <= to);
    if (!range) throw new Error(`slot ${slot} not served`);
    return `${range[2][0]}:${range[2][1]}`;
  };
}

/** CLIENT KILL every connection named `streams:<group>:<consumer>:reader:*` on every node. */
async function killReaders(
  cluster: RedisClusterProcess,
  group: string,
  consumer: string,
): Promise<number> {
  let killed = 0;
  for (const { port } of cluster.nodes) {
    killed += await onNode(port, async (r) => {
      const list = String(await r.client('LIST'));
      const ids = list
        .split('\n')
        .filter((line) => line.includes(` name=streams:${group}:${consumer}:reader:`))
        .map((line) => /\bid=(\d+)/.exec(line)?.[1])
        .filter((id): id is string => !!id);
      for (const id of ids) await r.client('KILL', 'ID', id);
      return ids.length;
    });
  }
  return killed;
}

describe('Redis Streams on Redis Cluster (3 masters)', () => {
  let cluster: RedisClusterProcess;
  let redis: Cluster;
  let prefix: string;
  let streams: string[];
  const running: ClusterConsumer[] = [];
  const clients: RedisStreamsClient[] = [];

  async function start(
    options: Partial<RedisStreamsServerOptions> & Pick<RedisStreamsServerOptions, 'group'>,
    patterns: string[],
    handle: ProbeHandler,
  ): Promise<ClusterConsumer> {
    const server = new CountingServer({
      connection: { cluster: { nodes: cluster.nodes } },
      streams,
      consumer: 'c1',
      blockMs: 500,
      claimIntervalMs: 100,
      claimIdleMs: 1_000,
      retryDelayMs: 10,
      shutdownTimeoutMs: 2_000,
      startId: '0',
      ...options,
    });
    const statuses: RedisStreamsStatus[] = [];
    server.status.subscribe((s) => statuses.push(s));
    const app = await NestFactory.createMicroservice(probeModule(patterns, handle), {
      strategy: server,
      logger: TEST_LOGGER,
    });
    await app.listen();
    let closed: Promise<void> | undefined;
    const consumer = { app, server, statuses, close: () => (closed ??= app.close()) };
    running.push(consumer);
    return consumer;
  }

  async function producer(
    options: Partial<RedisStreamsClientOptions> = {},
  ): Promise<RedisStreamsClient> {
    const client = new RedisStreamsClient({
      connection: { cluster: { nodes: cluster.nodes } },
      streamFor: (_pattern, data) => streams[(data as { p: number }).p],
      ...options,
    });
    clients.push(client);
    await client.connect();
    return client;
  }

  async function pendingTotal(): Promise<number> {
    const counts = await Promise.all(
      streams.map(async (s) => Number((await redis.xpending(s, 'g'))[0])),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  beforeAll(async () => {
    cluster = await RedisClusterProcess.start({ masters: 3 });
    redis = new Cluster(cluster.nodes, { lazyConnect: true });
    await redis.connect();
  });
  beforeEach(() => {
    prefix = uniquePrefix('streams-cluster');
    streams = Array.from({ length: PARTITIONS }, (_, p) => `${prefix}:{p${p}}:events`);
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((c) => c.close()));
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await redis?.quit();
    await cluster?.stop();
  });

  it('consumes 16 partitions over 3 masters: every entry once, per-key order, one read loop per slot', async () => {
    const owner = await slotOwners(redis);
    // The partitions really are spread: several slots on each of the 3 masters.
    expect(new Set(streams.map((s) => owner(keySlot(s)))).size).toBe(3);
    for (const key of [...streams, 'a{}{b}', 'x{b}y{c}', '{}x']) {
      expect(await redis.cluster('KEYSLOT', key)).toBe(keySlot(key));
    }

    const KEYS = 48;
    const EVENTS = 2_000;
    const handled: Handled[] = [];
    const consumer = await start(
      { group: 'g', concurrency: 32, orderingKey: (data) => (data as { key: string }).key },
      ['t.e'],
      async (data, ctx) => {
        if (data.seq % 7 === 0) await sleep(1);
        handled.push({
          stream: ctx.getStream(),
          id: ctx.getId(),
          key: data.key,
          seq: data.seq,
          deliveries: ctx.getDeliveryCount(),
          partition: ctx.getPartition(),
        });
      },
    );
    const client = await producer();
    const seq = new Array<number>(KEYS).fill(0);
    const emitted: Promise<string>[] = [];
    for (let i = 0; i < EVENTS; i++) {
      const k = i % KEYS;
      // A key always goes to the same partition (like sessions partitioned by user).
      const data = { key: `k${k}`, seq: seq[k]++, p: k % PARTITIONS };
      const stream = streams[data.p];
      emitted.push(lastValueFrom(client.emit<string>('t.e', data)).then((id) => `${stream} ${id}`));
    }
    const ids = await Promise.all(emitted);

    await waitFor('every entry handled', () => handled.length >= EVENTS, 30_000);
    await waitFor('nothing pending', async () => (await pendingTotal()) === 0);
    expect(handled).toHaveLength(EVENTS);
    expect(new Set(handled.map(entryKey))).toEqual(new Set(ids));
    expect(handled.every((h) => h.deliveries === 1)).toBe(true);
    expect(handled.every((h) => h.partition === streams.indexOf(h.stream))).toBe(true);
    const byKey = new Map<string, number[]>();
    handled.forEach((h) => byKey.set(h.key, [...(byKey.get(h.key) ?? []), h.seq]));
    for (const [, seqs] of byKey) expect(seqs).toEqual(seqs.map((_, i) => i));

    const { server } = consumer;
    // One reader per slot, each on the master serving it; never two reads at once on a slot.
    const [readers] = server.unwrap<[Redis[], Cluster]>();
    expect(readers).toHaveLength(PARTITIONS);
    const readerNodes = readers.map((r) => `${r.options.host}:${r.options.port}`).sort();
    expect(readerNodes).toEqual(streams.map((s) => owner(keySlot(s))).sort());
    expect(server.readers).toBe(PARTITIONS);
    expect(Math.max(...server.maxInFlight.values())).toBe(1);
    await waitFor('idle', () => server.stats().inFlight === 0); // released after their XACK
    expect(server.stats()).toMatchObject({ processed: EVENTS, failed: 0, running: 0 });
    expect(consumer.statuses.at(-1)).toBe(RedisStreamsStatus.CONNECTED);

    const lag = await server.lag();
    expect(lag.map((l) => l.partition)).toEqual(streams.map((_, i) => i));
    expect(lag.every((l) => l.pending === 0 && l.lag === 0)).toBe(true);
    const last = new Map<string, string>();
    handled.forEach((h) => {
      if (!last.has(h.stream) || compareIds(h.id, last.get(h.stream)!) > 0)
        last.set(h.stream, h.id);
    });
    for (const l of lag) expect(l.lastDeliveredId).toBe(last.get(l.stream));
  });

  it('keeps exactly one read loop per slot when reader connections are killed', async () => {
    const seen: number[] = [];
    const consumer = await start({ group: 'g', consumer: 'killed' }, ['t.e'], (data) => {
      seen.push(data.n);
    });
    const client = await producer();
    await waitFor('readers connected', () => consumer.server.readers === PARTITIONS);
    for (let round = 0; round < 3; round++) {
      expect(await killReaders(cluster, 'g', 'killed')).toBeGreaterThan(0);
      for (let p = 0; p < PARTITIONS; p++) {
        await lastValueFrom(client.emit('t.e', { n: round * PARTITIONS + p, p }));
      }
      await waitFor(`round ${round}`, () => seen.length === (round + 1) * PARTITIONS);
    }
    expect([...seen].sort((a, b) => a - b)).toEqual([...Array(3 * PARTITIONS).keys()]);
    expect(consumer.server.readers).toBeGreaterThan(PARTITIONS); // reconnected
    expect(Math.max(...consumer.server.maxInFlight.values())).toBe(1);
    await waitFor('connected', () => consumer.statuses.at(-1) === RedisStreamsStatus.CONNECTED);
  });

  it('dead-letters to the stream of the same slot, on the node serving it', async () => {
    const consumer = await start(
      { group: 'g', maxDeliveries: 2 },
      ['t.fail', 't.ok'],
      (data: { p: number }, ctx) => {
        if (ctx.getPattern() === 't.fail') throw new RpcException(`boom ${data.p}`);
      },
    );
    const client = await producer();
    const failing = [0, 2, 3, 5, 8, 13]; // on all three masters
    const ids = await Promise.all(
      failing.map((p) => lastValueFrom(client.emit<string>('t.fail', { p }))),
    );
    await redis.xadd(streams[1], '*', 'pattern', 't.ok'); // malformed: no data
    await waitFor('dead-lettered', () => consumer.server.stats().deadLettered === 7, 15_000);
    for (const [i, p] of failing.entries()) {
      const dead = await readEntries(redis, `${streams[p]}:dead`);
      expect(dead).toHaveLength(1);
      expect(dead[0].fields).toMatchObject({
        pattern: 't.fail',
        originalStream: streams[p],
        originalId: ids[i],
        error: `boom ${p}`,
        deliveryCount: '2',
        group: 'g',
      });
    }
    const [malformed] = await readEntries(redis, `${streams[1]}:dead`);
    expect(malformed.fields.error).toMatch(/no "data" field/);
    await waitFor('nothing pending', async () => (await pendingTotal()) === 0);
    expect(consumer.server.stats()).toMatchObject({ failed: 12, deadLettered: 7 });
  });

  it('refuses a dead-letter stream outside its source slot', async () => {
    const server = new RedisStreamsServer({
      connection: { cluster: { nodes: cluster.nodes } },
      streams,
      group: 'g',
      deadLetterStream: 'dlq',
    });
    const error = await new Promise<unknown>((resolve) => server.listen(resolve));
    expect(String(error)).toMatch(/dead-letter stream "dlq" must hash to the slot/);
    await server.close();
  });

  it('a second consumer takes over (XAUTOCLAIM) what a dead consumer left pending on every master', async () => {
    const never = new Deferred();
    const doomed = await start(
      { group: 'g', consumer: 'doomed', shutdownTimeoutMs: 50 },
      ['t.e'],
      () => never.promise,
    );
    const client = await producer();
    const ids = await Promise.all(
      streams.map((_, p) => lastValueFrom(client.emit<string>('t.e', { p }))),
    );
    await waitFor('all running', () => doomed.server.stats().running === PARTITIONS);
    const started = Date.now();
    await doomed.close(); // gives up on its handlers (still blocked): nothing acknowledged
    console.log(`close() gave up on ${PARTITIONS} blocked handlers in ${Date.now() - started} ms`);
    expect(await pendingTotal()).toBe(PARTITIONS);

    const taken: Array<{ id: string; partition: number; deliveries: number }> = [];
    const rescuer = await start(
      { group: 'g', consumer: 'rescuer', claimIdleMs: 300, claimIntervalMs: 50 },
      ['t.e'],
      (_d, ctx) => {
        taken.push({
          id: ctx.getId(),
          partition: ctx.getPartition(),
          deliveries: ctx.getDeliveryCount(),
        });
      },
    );
    await waitFor('all taken over', () => taken.length === PARTITIONS);
    expect(taken.map((t) => `${t.partition}:${t.id}`).sort()).toEqual(
      ids.map((id, p) => `${p}:${id}`).sort(),
    );
    expect(taken.every((t) => t.deliveries === 2)).toBe(true);
    await waitFor('nothing pending', async () => (await pendingTotal()) === 0);
    expect(rescuer.server.stats()).toMatchObject({ claimed: PARTITIONS, processed: PARTITIONS });
  });

  it('close() waits for running handlers, acknowledges them and drops every slot reader', async () => {
    const gate = new Deferred();
    const finished: number[] = [];
    const roles = new Set<string>();
    const server = new CountingServer({
      connection: { cluster: { nodes: cluster.nodes } },
      streams,
      group: 'g',
      consumer: 'closing',
      blockMs: 500,
      startId: '0',
      shutdownTimeoutMs: 5_000,
    });
    server.on('ready', (role) => roles.add(role)); // before listen(): kept for every connection
    const app = await NestFactory.createMicroservice(
      probeModule(['t.e'], async (data: { p: number }) => {
        await gate.promise;
        finished.push(data.p);
      }),
      { strategy: server, logger: TEST_LOGGER },
    );
    let closed = false;
    running.push({
      app,
      server,
      statuses: [],
      close: async () => {
        if (!closed) await app.close();
        closed = true;
      },
    });
    await app.listen();
    // Slot readers connect in their own loops, right after listen().
    await waitFor(
      'every connection ready',
      () => server.readers === PARTITIONS && roles.size === 2,
    );
    expect([...roles].sort()).toEqual(['commands', 'reader']);
    const client = await producer();
    const partitions = [0, 2, 3]; // one per master
    for (const p of partitions) await lastValueFrom(client.emit('t.e', { p }));
    await waitFor('three running', () => server.stats().running === 3);

    const closing = app.close();
    closed = true;
    expect(await settledWithin(closing, 200)).toBe('pending'); // waiting for the handlers
    gate.resolve();
    await closing;
    expect(finished.sort()).toEqual(partitions);
    expect(await pendingTotal()).toBe(0); // acknowledged before quitting
    const readers = await Promise.all(
      cluster.nodes.map(({ port }) =>
        onNode(port, async (r) =>
          String(await r.client('LIST'))
            .split('\n')
            .filter((line) => line.includes(' name=streams:g:closing:reader:')),
        ),
      ),
    );
    expect(readers.flat()).toEqual([]);
  });

  it('RedisStreamsClient XADDs each entry on the master serving its stream', async () => {
    const client = await producer({ maxLen: 1_000 });
    expect(client.unwrap()).toBeInstanceOf(Cluster);
    const ids = await Promise.all(
      streams.map((_, p) => lastValueFrom(client.emit<string>('t.e', { p }))),
    );
    const owner = await slotOwners(redis);
    for (const [p, stream] of streams.entries()) {
      const port = Number(owner(keySlot(stream)).split(':')[1]);
      // A plain connection to that node: it holds the entry (another node would answer MOVED).
      const entries = await onNode(port, (r) => readEntries(r, stream));
      expect(entries).toEqual([
        { id: ids[p], pattern: 't.e', data: { p }, fields: expect.any(Object) },
      ]);
    }
    await expect(lastValueFrom(client.send('x', {}))).rejects.toThrow(/does not support/);
  });

  it('follows a slot moved to another master while events flow (resharding)', async () => {
    const handled: Handled[] = [];
    const consumer = await start(
      { group: 'g', concurrency: 16, orderingKey: (data) => (data as { key: string }).key },
      ['t.e'],
      (data, ctx) => {
        handled.push({
          stream: ctx.getStream(),
          id: ctx.getId(),
          key: data.key,
          seq: data.seq,
          deliveries: ctx.getDeliveryCount(),
        });
      },
    );
    const client = await producer();
    const ids: string[] = [];
    let producing = true;
    const KEYS = 32;
    const seq = new Array<number>(KEYS).fill(0);
    const produce = (async () => {
      for (let i = 0; producing; i++) {
        const k = i % KEYS;
        const data = { key: `k${k}`, seq: seq[k], p: k % PARTITIONS };
        try {
          ids.push(`${streams[data.p]} ${await lastValueFrom(client.emit<string>('t.e', data))}`);
          seq[k]++;
        } catch {
          await sleep(20); // retried, same seq
        }
        if (i % 20 === 19) await sleep(5);
      }
    })();

    await waitFor('events flowing', () => handled.length > 200);
    const moved = [streams[3], streams[6]]; // on two different masters
    const moves = [];
    for (const stream of moved) {
      const slot = keySlot(stream);
      const readsBefore = handled.filter((h) => h.stream === stream).length;
      moves.push({ slot, ...(await moveSlot(cluster, slot)) });
      await waitFor(
        `${stream} read after the move`,
        () => handled.filter((h) => h.stream === stream).length > readsBefore + 10,
      );
    }
    producing = false;
    await produce;

    await waitFor(
      'every entry handled',
      () => new Set(handled.map(entryKey)).size >= ids.length,
      30_000,
    );
    await waitFor('nothing pending', async () => (await pendingTotal()) === 0);
    expect(new Set(handled.map(entryKey))).toEqual(new Set(ids));
    // At least once: an acknowledgement lost in the move would bring its entry back (rare).
    expect(handled.length - ids.length).toBeLessThanOrEqual(16);
    // Per-key order of first deliveries.
    const firsts = new Map([...handled].reverse().map((h) => [entryKey(h), h]));
    const byKey = new Map<string, number[]>();
    handled
      .filter((h) => firsts.get(entryKey(h)) === h)
      .forEach((h) => byKey.set(h.key, [...(byKey.get(h.key) ?? []), h.seq]));
    for (const [, seqs] of byKey) expect(seqs).toEqual(seqs.map((_, i) => i));

    // The moved slots' readers now read from the new master; still one read at a time per slot.
    const { server } = consumer;
    const [readers] = server.unwrap<[Redis[], Cluster]>();
    for (const { slot, to } of moves) {
      const reader = readers.find((r) => String(r.options.connectionName).endsWith(`:${slot}`));
      expect(reader?.options.port).toBe(to);
    }
    expect(Math.max(...server.maxInFlight.values())).toBe(1);
    expect(server.readers).toBeGreaterThanOrEqual(PARTITIONS + moves.length);
    await waitFor('idle', () => server.stats().inFlight === 0); // released after their XACK
    expect(server.stats()).toMatchObject({ failed: 0, deadLettered: 0, running: 0 });
    expect((await server.lag()).every((l) => l.pending === 0 && l.lag === 0)).toBe(true);
    expect(consumer.statuses.at(-1)).toBe(RedisStreamsStatus.CONNECTED);
  });
});

describe('Redis Streams on Redis Cluster: fail-over (3 masters, 1 replica each)', () => {
  let cluster: RedisClusterProcess;
  let redis: Cluster;

  beforeAll(async () => {
    cluster = await RedisClusterProcess.start({ masters: 3, replicas: 1 });
    redis = new Cluster(cluster.nodes, { lazyConnect: true });
    await redis.connect();
  });
  afterAll(async () => {
    redis?.disconnect();
    await cluster?.stop();
  });

  it('follows a replica promoted after its master died: nothing lost, nothing left pending', async () => {
    const prefix = uniquePrefix('streams-failover');
    const streams = Array.from({ length: PARTITIONS }, (_, p) => `${prefix}:{p${p}}:events`);
    const victimStream = streams[0];
    const slot = keySlot(victimStream);
    const { master, replica } = await masterAndReplicaOf(cluster, slot);

    const handled: Handled[] = [];
    const server = new CountingServer({
      connection: { cluster: { nodes: cluster.nodes } },
      streams,
      group: 'g',
      consumer: 'c1',
      blockMs: 500,
      claimIntervalMs: 200,
      claimIdleMs: 2_000,
      retryDelayMs: 10,
      startId: '0',
      shutdownTimeoutMs: 2_000,
    });
    const statuses: RedisStreamsStatus[] = [];
    server.status.subscribe((s) => statuses.push(s));
    const app = await NestFactory.createMicroservice(
      probeModule(['t.e'], (data, ctx) => {
        handled.push({
          stream: ctx.getStream(),
          id: ctx.getId(),
          key: '',
          seq: data.n,
          deliveries: ctx.getDeliveryCount(),
        });
      }),
      { strategy: server, logger: TEST_LOGGER },
    );
    const client = new RedisStreamsClient({
      connection: { cluster: { nodes: cluster.nodes } },
      streamFor: (_pattern, data) => streams[(data as { n: number }).n % PARTITIONS],
      timeoutMs: 2_000,
    });
    try {
      await app.listen();
      await client.connect();
      const ids: string[] = [];
      const emit = async (n: number): Promise<void> => {
        for (let attempt = 0; ; attempt++) {
          try {
            const id = await lastValueFrom(client.emit<string>('t.e', { n }));
            ids.push(`${streams[n % PARTITIONS]} ${id}`);
            return;
          } catch (err) {
            if (attempt > 150) throw err;
            await sleep(100);
          }
        }
      };
      for (let n = 0; n < 320; n++) await emit(n);
      await waitFor('first half handled', () => handled.length === 320);
      await waitFor('first half acknowledged', async () =>
        (await server.lag()).every((l) => l.pending === 0),
      );
      // Everything so far reached the replica: the fail-over loses no entry.
      await replicaCaughtUp(master, replica);

      const victim = cluster.servers.find((s) => s.port === master.port)!;
      await victim.kill();
      for (let n = 320; n < 640; n++) await emit(n);
      await waitFor(
        'second half handled',
        () => new Set(handled.map(entryKey)).size === 640,
        45_000,
      );
      await waitFor(
        'nothing pending',
        async () => (await server.lag()).every((l) => l.pending === 0),
        15_000,
      );
      expect(new Set(handled.map(entryKey))).toEqual(new Set(ids));
      // At least once: an XACK failing while the cluster is down brings its entry back (rare).
      expect(handled.length - 640).toBeLessThanOrEqual(16);

      const [readers] = server.unwrap<[Redis[], Cluster]>();
      const reader = readers.find((r) => String(r.options.connectionName).endsWith(`:${slot}`));
      expect(reader?.options.port).toBe(replica.port);
      expect(reader?.status).toBe('ready');
      expect(Math.max(...server.maxInFlight.values())).toBe(1);
      expect(statuses).toContain(RedisStreamsStatus.RECONNECTING);
      await waitFor('connected again', () => statuses.at(-1) === RedisStreamsStatus.CONNECTED);
    } finally {
      await app.close();
      await client.close();
    }
  });
});

/** Entry ids are unique per stream only. */
function entryKey(h: { stream: string; id: string }): string {
  return `${h.stream} ${h.id}`;
}

function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt);
  const [bm, bs] = b.split('-').map(BigInt);
  return am === bm ? Number(as - bs) : am < bm ? -1 : 1;
}
