import { createSessionFixture, type SessionFixture } from '../session/session-fixture';
import { AppProcess } from '../support/app-process';
import { eventually } from '../support/eventually';
import { testRedisUrl } from '../support/test-redis';
import { groupBacklog } from './group-backlog';

jest.setTimeout(180_000);

interface Health {
  status: string;
  details: { retentionGaps: { count: number; missedEvents: number } };
}

/** A worker down for longer than the stream retention (worker process, real Redis). */
describe('A worker resuming behind the retained stream', () => {
  let fx: SessionFixture;
  let worker: AppProcess | undefined;
  let env: Record<string, string>;

  beforeAll(async () => {
    fx = await createSessionFixture('worker-gap');
    env = {
      REDIS_URL: testRedisUrl(),
      SESSION_PREFIX: fx.prefix,
      SESSION_MAX_PER_USER: '0',
      SESSION_SWEEP_INTERVAL_SECONDS: '1',
    };
  });
  afterAll(async () => {
    await worker?.stop();
    await fx.close();
  });

  const indexed = async (userId: string) =>
    (await fx.redis.zrange(fx.service.keys.userSessions(userId), 0, -1)).sort();
  const expiryMembers = async () => {
    const members: string[] = [];
    for (let p = 0; p < fx.service.keys.partitions; p++)
      members.push(...(await fx.redis.zrange(fx.service.keys.expiryIndex(p), 0, -1)));
    return members;
  };

  it('says so (log, metrics, health), counts what it missed, repairs the projections from the session keys, and its lag returns to 0', async () => {
    worker = await AppProcess.start('worker', 'gap-w1', env);
    const users = Array.from({ length: 12 }, (_, i) => `gap-user-${i}`);
    const sessions = new Map<string, string[]>();
    for (const userId of users) {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await fx.service.create(userId)).sessionId);
      sessions.set(userId, ids);
    }
    await eventually(
      () => groupBacklog(fx),
      (b) => b.pending === 0 && b.lag === 0,
    );
    expect(await indexed(users[0])).toHaveLength(5);
    await worker.stop();

    // While it is down: 50 revokes, 3 revoke-alls, 5 logins; then the retention passes.
    const revoked: string[] = [];
    for (const userId of users.slice(0, 10))
      for (const sessionId of sessions.get(userId)!) {
        if (revoked.length < 50) {
          await fx.service.revoke(sessionId);
          revoked.push(sessionId);
        }
      }
    const revokedAll = users.slice(9, 12);
    for (const userId of revokedAll) await fx.service.revokeAllForUser(userId);
    const newcomers: string[] = [];
    for (let i = 0; i < 5; i++)
      newcomers.push((await fx.service.create(`newcomer-${i}`)).sessionId);
    for (const stream of fx.service.keys.allEventStreams()) {
      const [last] = await fx.redis.xrevrange(stream, '+', '-', 'COUNT', 1);
      if (!last) continue;
      const [ms, seq] = last[0].split('-');
      await fx.redis.xtrim(stream, 'MINID', `${ms}-${Number(seq) + 1}`);
    }
    const late = await fx.service.create('late-comer');

    worker = await AppProcess.start('worker', 'gap-w1', env);
    // Every gap is found at start, before reading; each partition found is then repaired.
    const repairsDone = (text: string) => {
      const gaps = Number(/^session_worker_retention_gaps_total (\d+)$/m.exec(text)?.[1] ?? -1);
      const repairs = [
        ...text.matchAll(/^session_worker_partition_repairs_total\{[^\n]*\} (\d+)$/gm),
      ];
      return gaps > 0 && repairs.reduce((n, [, count]) => n + Number(count), 0) === gaps;
    };
    await eventually(() => worker!.metrics(), repairsDone, { timeoutMs: 30_000 });
    expect(worker.output).toMatch(
      /Retention gap on .*trimmed before group session-projections read them/,
    );

    // The projections equal what is stored: revoked sessions gone from both indexes, revoked-all
    // users empty, newcomers (whose events were lost) and the late comer indexed.
    await eventually(
      () => indexed('late-comer'),
      (ids) => ids.length === 1 && ids[0] === late.sessionId,
    );
    for (const [i, sessionId] of newcomers.entries())
      expect(await indexed(`newcomer-${i}`)).toEqual([sessionId]);
    for (const userId of revokedAll) expect(await indexed(userId)).toEqual([]);
    const members = await expiryMembers();
    for (const sessionId of revoked) {
      expect(members.some((m) => m.startsWith(`${sessionId}|`))).toBe(false);
    }
    // Users 0-9: every session revoked (50), users 9-11 revoked all: only the newcomers live.
    const liveSessions = members.map((m) => m.split('|')[0]);
    expect(liveSessions.sort()).toEqual([...newcomers, late.sessionId].sort());

    // Counted, and its lag is not stuck at what was trimmed.
    const metrics = await eventually(
      () => worker!.metrics(),
      (text) => /session_worker_missed_events_total 58\b/.test(text),
    );
    expect(metrics).toMatch(/session_worker_retention_gaps_total [1-9]/);
    expect(metrics).toMatch(/session_worker_partition_repairs_total\{partition="\d+"\} 1/);
    await eventually(
      () => groupBacklog(fx),
      (b) => b.pending === 0 && b.lag === 0,
    );
    const lags = [
      ...(await worker.metrics()).matchAll(/session_worker_stream_lag\{stream="[^"]*"\} (\d+)/g),
    ];
    expect(lags.length).toBe(16);
    expect(lags.every(([, n]) => n === '0')).toBe(true);
    const health = (await (await fetch(`http://127.0.0.1:${worker.port}/health`)).json()) as Health;
    expect(health.status).toBe('degraded');
    expect(health.details.retentionGaps).toMatchObject({ missedEvents: 58 });

    // Sweeps run every second: none ends a revoked session with an invented session.expired.
    await eventually(
      () => worker!.metrics(),
      (text) => /session_worker_last_successful_sweep_timestamp_seconds [1-9]/.test(text),
    );
    for (const stream of fx.service.keys.allEventStreams())
      for (const [, fields] of await fx.redis.xrange(stream, '-', '+'))
        expect(fields[1]).not.toBe('session.expired');
  });
});
