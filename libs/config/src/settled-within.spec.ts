import { settledWithin } from './settled-within';

describe('settledWithin', () => {
  it('is true when the work settles in time, fulfilled or rejected', async () => {
    await expect(settledWithin(Promise.resolve(1), 1000)).resolves.toBe(true);
    await expect(settledWithin(Promise.reject(new Error('x')), 1000)).resolves.toBe(true);
    await expect(settledWithin(undefined, 1000)).resolves.toBe(true);
  });

  it('is false when the time runs out first', async () => {
    await expect(settledWithin(new Promise(() => undefined), 10)).resolves.toBe(false);
  });
});
