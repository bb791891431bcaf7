import { FakeRedis, fakeRuntime } from '../../../test/streams/support/fake-runtime';
import { READER_SILENCE_GRACE_MS, readGroup, watchRead } from './redis-streams.group-reads';

describe('group reads', () => {
  it('readGroup: XREADGROUP of this consumer, COUNT batchSize, BLOCK only when given', async () => {
    const redis = new FakeRedis(() => null);
    const runtime = fakeRuntime({ batchSize: 7 }, redis);
    await readGroup(runtime, redis.asRedis(), ['a', 'b'], ['>', '>'], 50);
    await readGroup(runtime, redis.asRedis(), ['a'], ['0']);
    expect(redis.sent).toEqual([
      ['XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', 7, 'BLOCK', 50, 'STREAMS', 'a', 'b', '>', '>'],
      ['XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', 7, 'STREAMS', 'a', '0'],
    ]);
  });

  describe('watchRead', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    it('drops a ready reader silent for BLOCK + grace (a half-open socket)', async () => {
      const redis = new FakeRedis();
      const disconnect = jest.spyOn(redis, 'disconnect');
      const runtime = fakeRuntime({ blockMs: 1_000 }, redis);
      const read = new Promise<string>(() => undefined);
      void watchRead(runtime, redis.asRedis(), true, read);
      await jest.advanceTimersByTimeAsync(1_000 + READER_SILENCE_GRACE_MS - 1);
      expect(disconnect).not.toHaveBeenCalled();
      await jest.advanceTimersByTimeAsync(1);
      expect(disconnect).toHaveBeenCalledWith(true);
      runtime.close();
    });

    it('leaves a reader that answered in time alone', async () => {
      const redis = new FakeRedis();
      const disconnect = jest.spyOn(redis, 'disconnect');
      const runtime = fakeRuntime({ blockMs: 1_000 }, redis);
      await expect(watchRead(runtime, redis.asRedis(), true, Promise.resolve('r'))).resolves.toBe(
        'r',
      );
      await jest.advanceTimersByTimeAsync(60_000);
      expect(disconnect).not.toHaveBeenCalled();
    });
  });
});
