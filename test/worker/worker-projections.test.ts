import { SessionService } from '@app/session';
import {
  createSessionFixture,
  readAllEvents,
  type SessionFixture,
} from '../session/session-fixture';
import { testRedisUrl } from '../support/test-redis';
import { AppProcess } from '../support/app-process';
import { eventually } from '../support/eventually';

jest.setTimeout(120_000);

describe('Worker projections end to end (worker process, real Redis)', () => {
  let fx: SessionFixture;
  let sessions: SessionService;
  let worker: AppProcess;

  beforeAll(async () => {
    fx = await createSessionFixture('worker-e2e');
    sessions = fx.service;
    worker = await AppProcess.start('worker', 'worker-e2e-1', {
      REDIS_URL: testRedisUrl(),
      SESSION_PREFIX: fx.prefix,
      SESSION_MAX_PER_USER: '3',
      SESSION_SWEEP_INTERVAL_SECONDS: '3600',
    });
  });
  afterAll(async () => {
    await worker.stop();
    await fx.close();
  });

  const listed = (userId: string) =>
    sessions.listForUser(userId).then((page) => page.sessions.map((s) => s.sessionId).sort());

  it('lists a user’s sessions with device metadata once the worker indexed them', async () => {
    const a = await sessions.create('alice', {}, { userAgent: 'Firefox', ip: '10.1.1.1' });
    await new Promise((resolve) => setTimeout(resolve, 5)); // distinct creation times: newest first
    const b = await sessions.create('alice', {}, { userAgent: 'Safari' });
    await eventually(
      () => listed('alice'),
      (ids) => ids.length === 2,
    );
    const page = await sessions.listForUser('alice');
    expect(page.sessions.map((s) => s.sessionId)).toEqual([b.sessionId, a.sessionId]);
    expect(page.sessions[1]).toMatchObject({ userAgent: 'Firefox', ip: '10.1.1.1' });
  });

  it('follows rotation and revocation', async () => {
    const created = await sessions.create('bob');
    await eventually(
      () => listed('bob'),
      (ids) => ids.length === 1,
    );
    const rotated = await sessions.rotate(created.token);
    await eventually(
      () => listed('bob'),
      (ids) => ids.length === 1 && ids[0] === rotated.sessionId,
    );
    await sessions.revoke(rotated.sessionId);
    const index = fx.service.keys.userSessions('bob');
    await eventually(
      () => fx.redis.zcard(index),
      (n) => n === 0,
    );
  });

  it('cleans up after a user-wide revoke: the old sessions are deleted from Redis and the indexes', async () => {
    const old = [await sessions.create('carol'), await sessions.create('carol')];
    await eventually(
      () => listed('carol'),
      (ids) => ids.length === 2,
    );
    expect(await sessions.revokeAllForUser('carol')).toBe(2);
    const partition = sessions.keys.partitionOf('carol');
    await eventually(
      () =>
        Promise.all(old.map((s) => fx.redis.exists(sessions.keys.session(s.sessionId, partition)))),
      (exists) => exists.every((e) => e === 0),
    );
    await eventually(
      () => fx.redis.zcard(sessions.keys.userSessions('carol')),
      (n) => n === 0,
    );
    const fresh = await sessions.create('carol');
    await eventually(
      () => listed('carol'),
      (ids) => ids.length === 1 && ids[0] === fresh.sessionId,
    );
  });

  it('enforces the session limit: the least recently used session is revoked with reason "limit"', async () => {
    const created = [];
    for (let i = 0; i < 3; i++) created.push(await sessions.create('dave'));
    await eventually(
      () => listed('dave'),
      (ids) => ids.length === 3,
    );
    // Last use: the second session longest ago, then the third, then the first.
    const partition = sessions.keys.partitionOf('dave');
    const base = created[0].createdAt;
    for (const [i, offset] of [
      [0, -1000],
      [1, -3000],
      [2, -2000],
    ]) {
      await fx.redis.hset(
        sessions.keys.session(created[i].sessionId, partition),
        'la',
        String(base + offset),
      );
    }
    const fourth = await sessions.create('dave');
    await eventually(
      () => listed('dave'),
      (ids) => ids.length === 3 && ids.includes(fourth.sessionId),
    );
    expect(await listed('dave')).not.toContain(created[1].sessionId);
    expect(await sessions.verify(created[1].token)).toEqual({ valid: false, reason: 'unknown' });
    const limitEvents = (await readAllEvents(fx)).filter(
      (e) => e.pattern === 'session.revoked' && e.data.reason === 'limit',
    );
    expect(limitEvents.map((e) => e.data.sessionId)).toEqual([created[1].sessionId]);
  });

  it('exposes health and Prometheus metrics', async () => {
    expect(await worker.healthy()).toBe(true);
    const text = await worker.metrics();
    expect(text).toMatch(/session_worker_events_applied_total\{type="session.created"\} \d+/);
    expect(text).toContain('session_worker_stream_pending');
    expect(text).toContain('session_worker_stream_lag');
    expect(text).toContain('session_worker_dead_letters');
    expect(text).toContain('session_worker_projection_lag_seconds_bucket');
  });
});
