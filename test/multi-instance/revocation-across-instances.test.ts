import type { CreatedSession, RotatedSession } from '@app/session';
import {
  deleteKeysWithPrefix,
  newRedisClient,
  testRedisConfig,
  uniquePrefix,
} from '../support/test-redis';
import { eventually, waitUntil } from '../support/eventually';
import { InstanceProcess, percentile } from './instance-process';

jest.setTimeout(120_000);

describe('Revocation across three app instances (separate processes)', () => {
  const prefix = uniquePrefix('multi');
  let instances: InstanceProcess[];
  let a: InstanceProcess;
  let others: InstanceProcess[];

  beforeAll(async () => {
    const options = { redis: testRedisConfig(), keyPrefix: prefix };
    instances = await Promise.all(
      ['a', 'b', 'c'].map((name) => InstanceProcess.start(name, options)),
    );
    [a, ...others] = instances;
    for (const instance of instances)
      await waitUntil(() => instance.call<boolean>('connected'), 5000);
  });
  afterAll(async () => {
    await Promise.all(instances.map((instance) => instance.stop()));
    const redis = newRedisClient();
    await deleteKeysWithPrefix(redis, prefix);
    await redis.quit();
  });

  async function validatedEverywhere(userId: string): Promise<CreatedSession> {
    const created = await a.call<CreatedSession>('create', userId);
    for (const instance of instances)
      expect(await instance.call<boolean>('validate', created.token)).toBe(true);
    return created;
  }

  const rejectedEverywhere = (token: string) =>
    Promise.all(
      instances.map((instance) =>
        waitUntil(async () => !(await instance.call<boolean>('validate', token))),
      ),
    );

  it('a session revoked through one instance is rejected by the other two', async () => {
    const created = await validatedEverywhere('alice');
    await others[0].call('revoke', created.sessionId);
    await rejectedEverywhere(created.token);
  });

  it('a rotated session’s old token is rejected everywhere, the new one accepted everywhere', async () => {
    const created = await validatedEverywhere('bob');
    const rotated = await others[1].call<RotatedSession>('rotate', created.token);
    await rejectedEverywhere(created.token);
    for (const instance of instances)
      expect(await instance.call<boolean>('validate', rotated.token)).toBe(true);
  });

  it('revokeOthers through one instance keeps the current session everywhere and ends the rest', async () => {
    const keep = await validatedEverywhere('carol');
    const other = await validatedEverywhere('carol');
    await others[0].call('revokeOthers', 'carol', keep.sessionId);
    await rejectedEverywhere(other.token);
    for (const instance of instances)
      expect(await instance.call<boolean>('validate', keep.token)).toBe(true);
  });

  it('revokeAllForUser through one instance ends the user’s sessions everywhere', async () => {
    const sessions = [await validatedEverywhere('dave'), await validatedEverywhere('dave')];
    await others[1].call('revokeAllForUser', 'dave');
    for (const session of sessions) await rejectedEverywhere(session.token);
  });

  it('propagates 1,000 revocations to the other instances (delays measured and printed)', async () => {
    const count = 1000;
    const sessions: CreatedSession[] = [];
    for (let i = 0; i < count; i++)
      sessions.push(await a.call<CreatedSession>('create', `load-${i % 50}`));
    for (const instance of others) {
      for (const session of sessions)
        expect(await instance.call<boolean>('validate', session.token)).toBe(true);
    }
    const started: number[] = [];
    for (const session of sessions)
      started.push((await a.call<{ startedAt: number }>('revoke', session.sessionId)).startedAt);
    const delays: number[] = [];
    for (const instance of others) {
      // Every instance receives every revocation; how soon is measured, not asserted (a busy
      // machine delays delivery, not correctness).
      const receipts = await eventually(
        () =>
          instance.call<(number | null)[]>(
            'receipts',
            sessions.map((s) => s.sessionId),
          ),
        (all) => all.every((at) => at !== null),
        { timeoutMs: 30_000 },
      );
      receipts.forEach((at, i) => delays.push((at as number) - started[i]));
    }
    delays.sort((x, y) => x - y);
    const [p50, p99, max] = [
      percentile(delays, 50),
      percentile(delays, 99),
      delays[delays.length - 1],
    ];
    console.log(
      `revocation propagation over ${delays.length} deliveries (${count} revocations x 2 instances): ` +
        `p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${max.toFixed(2)} ms`,
    );
    expect(delays).toHaveLength(2 * count);
    // Received after the revocation started, never before (the clocks are one machine's).
    expect(delays.filter((delay) => delay < 0)).toEqual([]);
    for (const instance of others) {
      for (const session of sessions.slice(0, 50))
        expect(await instance.call<boolean>('validate', session.token)).toBe(false);
    }
  });
});
