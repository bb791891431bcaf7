import type { SessionIndex, SessionStore } from '@app/session';
import { PartitionRepair, type PartitionRepairReport } from './partition-repair.service';
import type { SessionLimitService } from './session-limit.service';

function report(partition: number): PartitionRepairReport {
  return { partition, indexed: 0, gone: 0, dropped: 0, leftToSweep: 0, durationMs: 0 };
}

describe('PartitionRepair.schedule', () => {
  it('runs one repair per partition at a time, and gaps reported meanwhile share one more run', async () => {
    const repairs = new PartitionRepair(
      {} as SessionStore,
      {} as SessionIndex,
      {} as SessionLimitService,
    );
    const started: number[] = [];
    const finish: (() => void)[] = [];
    jest.spyOn(repairs, 'repair').mockImplementation((partition) => {
      started.push(partition);
      return new Promise((resolve) => finish.push(() => resolve(report(partition))));
    });
    const first = repairs.schedule(3);
    await new Promise((resolve) => setImmediate(resolve));
    const second = repairs.schedule(3);
    const third = repairs.schedule(3);
    const other = repairs.schedule(4);
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([3, 4]);
    expect(third).toBe(second);
    finish.shift()!(); // partition 3's first run
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([3, 4, 3]);
    finish.forEach((done) => done());
    await Promise.all([second, other]);
    expect(started).toEqual([3, 4, 3]);
  });
});
