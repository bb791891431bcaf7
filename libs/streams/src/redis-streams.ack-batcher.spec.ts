import { AckBatcher } from './redis-streams.ack-batcher';

describe('AckBatcher', () => {
  it('sends the ids acknowledged in one turn as one command per stream', async () => {
    const sent: [string, string[]][] = [];
    const batcher = new AckBatcher(async (stream, ids) => void sent.push([stream, [...ids]]));
    await Promise.all([
      batcher.ack('a', '1-0'),
      batcher.ack('b', '5-0'),
      batcher.ack('a', '2-0'),
      batcher.ack('a', '3-0'),
    ]);
    expect(sent).toEqual([
      ['a', ['1-0', '2-0', '3-0']],
      ['b', ['5-0']],
    ]);
    await batcher.ack('a', '4-0'); // a later turn: a new command
    expect(sent.at(-1)).toEqual(['a', ['4-0']]);
  });

  it('settles each caller only when its command has been answered', async () => {
    let answer!: () => void;
    const batcher = new AckBatcher(() => new Promise<void>((resolve) => (answer = resolve)));
    let settled = false;
    const acked = batcher.ack('a', '1-0').then(() => (settled = true));
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    answer();
    await acked;
    expect(settled).toBe(true);
  });

  it('sends a full batch at once', () => {
    const sent: number[] = [];
    const batcher = new AckBatcher(async (_stream, ids) => void sent.push(ids.length), 3);
    for (let i = 0; i < 7; i++) void batcher.ack('a', `${i}-0`);
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        expect(sent).toEqual([3, 3, 1]);
        resolve();
      }),
    );
  });

  it('rejects every caller of a failed command, also when sending throws at once', async () => {
    const failing = new AckBatcher(() => Promise.reject(new Error('Connection is closed.')));
    const results = await Promise.allSettled([failing.ack('a', '1-0'), failing.ack('a', '2-0')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    const throwing = new AckBatcher(() => {
      throw new Error('Not initialized');
    });
    await expect(throwing.ack('a', '1-0')).rejects.toThrow('Not initialized');
  });
});
