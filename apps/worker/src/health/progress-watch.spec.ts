import { ProgressWatch } from './progress-watch';

describe('ProgressWatch', () => {
  it('is up while idle, however long since the last settled entry', () => {
    const watch = new ProgressWatch(1000);
    expect(watch.check(false, 0, 1_000_000).status).toBe('up');
  });

  it('starts the clock when work is first seen waiting, not at the last progress', () => {
    const watch = new ProgressWatch(1000);
    expect(watch.check(true, 0, 1_000_000).status).toBe('up');
    expect(watch.check(true, 0, 1_000_900).status).toBe('up');
    expect(watch.check(true, 0, 1_001_001)).toEqual({
      status: 'stalled',
      secondsWithoutProgress: 1,
    });
  });

  it('stays up while entries keep settling, and forgets a stall once nothing waits', () => {
    const watch = new ProgressWatch(1000);
    watch.check(true, 0, 10_000);
    expect(watch.check(true, 11_500, 12_000).status).toBe('up');
    expect(watch.check(true, 11_500, 13_000).status).toBe('stalled');
    expect(watch.check(false, 11_500, 13_100).status).toBe('up');
    expect(watch.check(true, 11_500, 13_200).status).toBe('up');
  });
});
