import type { Cluster } from 'ioredis';
import {
  FakeRedis,
  fakeParts,
  fakeRuntime,
  until,
  type SentCommand,
} from '../../../test/streams/support/fake-runtime';
import { RedisStreamsStatus } from './redis-streams.events';
import { SlotReader } from './redis-streams.slot-reader';
import { StatusBoard } from './redis-streams.status';

const SLOT = 1234;
const entryReply = (id: string) => [
  ['s', [[id, ['pattern', 'e', 'data', JSON.stringify({ id })]]]],
];
const isRead = (c: SentCommand, id: string) => c[0] === 'XREADGROUP' && c.at(-1) === id;

/**
 * A slot reader over fake nodes: `answer(node, command)` is each node's reply; the Cluster
 * client's slot map says `master.node`.
 */
function slotReader(answer: (node: string, c: SentCommand) => unknown) {
  const master = { node: '10.0.0.1:7000' };
  const refreshes: number[] = [];
  const cluster = {
    get slots() {
      return { [SLOT]: [master.node] };
    },
    refreshSlotsCache: (done: () => void) => {
      refreshes.push(1);
      done();
    },
  } as unknown as Cluster;
  const commands = new FakeRedis((c) => (c[0] === 'XPENDING' ? [] : 'OK'));
  const runtime = fakeRuntime({ retryDelay: 1, retryAttempts: 2 }, commands, true);
  const handled: string[] = [];
  const { dispatcher, groups } = fakeParts(runtime, {
    e: (data) => void handled.push((data as { id: string }).id),
  });
  const statuses: RedisStreamsStatus[] = [];
  const board = new StatusBoard((s) => statuses.push(s), runtime.isClosed);
  const connections: { node: string; client: FakeRedis }[] = [];
  const r = new SlotReader(SLOT, ['s'], {
    runtime,
    cluster,
    clusterOptions: undefined,
    dispatcher,
    groups,
    board,
    connect: ({ host: h, port }) => {
      const node = `${h}:${port}`;
      const client = new FakeRedis((c) => answer(node, c));
      client.status = 'wait';
      connections.push({ node, client });
      return client.asRedis();
    },
    onConnection: () => undefined,
  });
  const stop = async () => {
    runtime.close();
    await r.stop();
  };
  return { r, master, connections, handled, statuses, refreshes, runtime, stop };
}

describe('SlotReader', () => {
  it('reads the slot on its master: own pending entries first, then new ones', async () => {
    const { r, connections, handled, statuses, stop } = slotReader((_node, c) => {
      if (isRead(c, '0')) return [['s', []]];
      return handled.length === 0 ? entryReply('1-0') : FakeRedis.BLOCK;
    });
    r.start();
    await r.firstPendingRead;
    await until(() => handled.length === 1);
    expect(connections.map((c) => c.node)).toEqual(['10.0.0.1:7000']);
    expect(statuses).toEqual([RedisStreamsStatus.CONNECTED]);
    await stop();
  });

  it('follows MOVED to the node named at once, re-reading its pending entries there', async () => {
    const { r, connections, handled, stop } = slotReader((node, c) => {
      if (node === '10.0.0.1:7000') throw new Error(`MOVED ${SLOT} 10.0.0.2:7000`);
      if (isRead(c, '0')) return [['s', []]];
      return handled.length === 0 ? entryReply('2-0') : FakeRedis.BLOCK;
    });
    r.start();
    await until(() => handled.length === 1);
    expect(connections.map((c) => c.node)).toEqual(['10.0.0.1:7000', '10.0.0.2:7000']);
    expect(connections[0].client.status).toBe('end');
    expect(r.node).toBe('10.0.0.2:7000');
    await stop();
  });

  it('waits out a migration (ASK, TRYAGAIN, UNBLOCKED) on the same node', async () => {
    const errors = ['ASK 1234 10.0.0.2:7000', 'TRYAGAIN Multiple keys', 'UNBLOCKED stream moved'];
    const { r, connections, handled, stop } = slotReader((_node, c) => {
      if (isRead(c, '0')) return [['s', []]];
      const next = errors.shift();
      if (next) throw new Error(next);
      return handled.length === 0 ? entryReply('3-0') : FakeRedis.BLOCK;
    });
    r.start();
    await until(() => handled.length === 1);
    expect(connections.map((c) => c.node)).toEqual(['10.0.0.1:7000']);
    await stop();
  });

  it('after a lost connection refreshes the slot map and reconnects to the master named then', async () => {
    let first = true;
    const { r, master, connections, handled, statuses, refreshes, stop } = slotReader((node, c) => {
      if (isRead(c, '0')) return [['s', []]];
      if (node === '10.0.0.1:7000' && first) {
        first = false;
        connections[0].client.status = 'end'; // the master died mid-read
        master.node = '10.0.0.3:7000'; // its replica was promoted
        throw new Error('Connection is closed.');
      }
      return handled.length === 0 ? entryReply('4-0') : FakeRedis.BLOCK;
    });
    r.start();
    await until(() => handled.length === 1);
    expect(connections.map((c) => c.node)).toEqual(['10.0.0.1:7000', '10.0.0.3:7000']);
    expect(refreshes.length).toBeGreaterThan(0);
    expect(statuses).toEqual([RedisStreamsStatus.RECONNECTING, RedisStreamsStatus.CONNECTED]);
    await stop();
  });

  it('gives up after retryAttempts lost connections, reporting disconnected', async () => {
    const { r, connections, statuses, stop } = slotReader(() => {
      connections.at(-1)!.client.status = 'end';
      throw new Error('Connection is closed.');
    });
    r.start();
    await r.firstPendingRead;
    expect(connections).toHaveLength(3);
    expect(statuses.at(-1)).toBe(RedisStreamsStatus.DISCONNECTED);
    await stop();
  });

  it('follow(): a refreshed slot map naming another master moves the reader there', async () => {
    const { r, connections, stop } = slotReader((_node, c) =>
      isRead(c, '0') ? [['s', []]] : FakeRedis.BLOCK,
    );
    r.start();
    await r.firstPendingRead;
    await until(() => connections[0].client.sent.length === 2);
    r.follow('10.0.0.1:7000'); // same master: nothing to do
    expect(connections).toHaveLength(1);
    r.follow('10.0.0.2:7000');
    await until(() => connections.length === 2);
    expect(connections[1].node).toBe('10.0.0.2:7000');
    await stop();
  });
});
