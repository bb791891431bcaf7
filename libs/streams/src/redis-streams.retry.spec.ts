import { createRetryStrategy } from './redis-streams.retry';

describe('createRetryStrategy', () => {
  const logger = { error: jest.fn(), log: jest.fn(), warn: jest.fn() };
  const base = { retryAttempts: 3, retryDelay: (n: number) => n * 100, logger };

  it('waits retryDelay(times) while attempts remain', () => {
    const strategy = createRetryStrategy({ ...base, isClosed: () => false });
    expect([1, 2, 3].map(strategy)).toEqual([100, 200, 300]);
  });

  it('gives up after retryAttempts, saying so', () => {
    logger.error.mockClear();
    const strategy = createRetryStrategy({ ...base, isClosed: () => false });
    expect(strategy(4)).toBeNull();
    expect(logger.error).toHaveBeenCalledWith('Retry time exhausted');
  });

  it('stops at once after an explicit close', () => {
    let closed = false;
    const strategy = createRetryStrategy({ ...base, isClosed: () => closed });
    expect(strategy(1)).toBe(100);
    closed = true;
    expect(strategy(1)).toBeNull();
  });
});
