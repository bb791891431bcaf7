/**
 * A user's session.created is delivered to one consumer (here "ghost", standing for a replica that
 * died, or simply the other of two replicas) while the user's later user.revoked is applied by the
 * running worker. When the created event is finally applied (claimed from the ghost), the session
 * is already revoked by the user's epoch: it must not come back into the indexes, and its hash is
 * deleted, so the live projections equal a replay of the stream. (This failed before the index
 * script checked the revoke-all epoch.)
 */
import { checkProjections } from '../../apps/worker/src/rebuild/projection-check';
import { PROJECTIONS_GROUP } from '../../apps/worker/src/worker.constants';
import { createSessionFixture, type SessionFixture } from '../session/session-fixture';
import { AppProcess } from '../support/app-process';
import { testRedisUrl } from '../support/test-redis';

jest.setTimeout(120_000);

describe('worker applying a user’s events out of order', () => {
  let fx: SessionFixture;
  let worker: AppProcess | undefined;

  beforeAll(async () => {
    fx = await createSessionFixture('reorder', { cache: { enabled: false } });
  });
  afterAll(async () => {
    await worker?.stop('SIGKILL');
    await fx.close();
  });

  it('a revoke-all applied before the session.created it revoked leaves the session indexed and stored', async () => {
    const userId = 'reorder-user';
    const keys = fx.service.keys;
    const partition = keys.partitionOf(userId);
    const stream = keys.events(partition);
    await fx.redis.xgroup('CREATE', stream, PROJECTIONS_GROUP, '0', 'MKSTREAM');

    const session = await fx.service.create(userId);
    // Another consumer takes the session.created entry and never acknowledges it.
    const delivered = (await fx.redis.xreadgroup(
      'GROUP',
      PROJECTIONS_GROUP,
      'ghost',
      'COUNT',
      1,
      'STREAMS',
      stream,
      '>',
    )) as [string, [string, string[]][]][];
    expect(delivered[0][1][0][1][1]).toBe('session.created');
    await fx.service.revokeAllForUser(userId);
    expect(await fx.service.verify(session.token)).toEqual({ valid: false, reason: 'revoked' });

    // The worker applies user.revoked first, then claims the ghost's entry after 1 s idle.
    worker = await AppProcess.start('worker', 'reorder-w1', {
      REDIS_URL: testRedisUrl(),
      SESSION_PREFIX: fx.prefix,
      SESSION_SWEEP_INTERVAL_SECONDS: '3600',
      WORKER_CLAIM_IDLE_MS: '1000',
    });
    for (let i = 0; i < 100; i++) {
      const [pending] = (await fx.redis.xpending(stream, PROJECTIONS_GROUP)) as [number];
      if (Number(pending) === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await fx.redis.xpending(stream, PROJECTIONS_GROUP)).toEqual([0, null, null, null]);

    const report = await checkProjections(fx.store);
    const stored = await fx.redis.exists(keys.session(session.sessionId, partition));
    const indexed = await fx.redis.zscore(keys.userSessions(userId), session.sessionId);
    console.log(
      `revoked session still stored: ${stored === 1}, still in the user index: ${indexed !== null}; ` +
        `differences: ${JSON.stringify(report.differences)}`,
    );
    // Expected: the revoke-all clean-up removed it (as when the events arrive in order).
    expect(report.differences).toEqual([]);
    expect(indexed).toBeNull();
    expect(stored).toBe(0);
  });
});
