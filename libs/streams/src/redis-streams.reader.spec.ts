import {
  FakeRedis,
  fakeParts,
  fakeRuntime,
  until,
  type SentCommand,
} from '../../../test/streams/support/fake-runtime';
import { StreamReader } from './redis-streams.reader';

const entryReply = (stream: string, id: string) => [
  [stream, [[id, ['pattern', 'e', 'data', JSON.stringify({ id })]]]],
];
const isRead = (c: SentCommand, id: string) => c[0] === 'XREADGROUP' && c.at(-1) === id;

function reader(reply: (c: SentCommand) => unknown) {
  const handled: string[] = [];
  const commands = new FakeRedis((c) => (c[0] === 'XPENDING' ? [[c[3], 'c', 1, 2]] : 'OK'));
  const runtime = fakeRuntime({ blockMs: 100 }, commands);
  const { dispatcher, groups } = fakeParts(runtime, {
    e: (data) => void handled.push((data as { id: string }).id),
  });
  const client = new FakeRedis(reply);
  let pendingRead = 0;
  const r = new StreamReader(
    runtime,
    client.asRedis(),
    ['s'],
    dispatcher,
    groups,
    () => pendingRead++,
  );
  return { r, client, commands, runtime, handled, pendingRead: () => pendingRead };
}

describe('StreamReader', () => {
  it('re-reads its own pending entries (id 0, paged), then blocks for new ones (>)', async () => {
    let reads = 0;
    const { r, client, runtime, handled, pendingRead } = reader((c) => {
      if (isRead(c, '0')) return entryReply('s', '1-0');
      if (isRead(c, '1-0')) return [['s', []]];
      if (isRead(c, '>')) return ++reads === 1 ? entryReply('s', '2-0') : FakeRedis.BLOCK;
      return 'OK';
    });
    r.start();
    r.start(); // one loop, ever
    await until(() => handled.length === 2);
    expect(handled).toEqual(['1-0', '2-0']);
    expect(pendingRead()).toBe(1);
    const reading = client.sent.map((c) => c.slice(6).join(' '));
    expect(reading).toEqual([
      'STREAMS s 0',
      'STREAMS s 1-0',
      'BLOCK 100 STREAMS s >',
      'BLOCK 100 STREAMS s >',
    ]);
    runtime.close();
    await r.stop();
  });

  it('re-creates a lost group (NOGROUP) and goes on reading', async () => {
    let lost = true;
    const { r, commands, runtime, handled } = reader((c) => {
      if (isRead(c, '0')) return [['s', []]];
      if (lost) {
        lost = false;
        throw new Error('NOGROUP No such key');
      }
      return handled.length === 0 ? entryReply('s', '3-0') : FakeRedis.BLOCK;
    });
    r.start();
    await until(() => handled.length === 1);
    expect(commands.sent[0]).toEqual(['XGROUP', 'CREATE', 's', 'g', '$', 'MKSTREAM']);
    runtime.close();
    await r.stop();
  });

  it('stop() drops the connection, which ends a blocked read and the loop', async () => {
    const { r, client, runtime } = reader((c) => (isRead(c, '0') ? [['s', []]] : FakeRedis.BLOCK));
    r.start();
    await until(() => client.sent.length === 2);
    runtime.close();
    await r.stop();
    expect(client.status).toBe('end');
  });
});
