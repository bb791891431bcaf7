import { expiryMember, type SessionService, type SessionStore } from '@app/session';
import { checkProjections, replayStreams } from '../../apps/worker/src/rebuild/projection-check';
import { snapshotStreams, waitForGroup } from '../../apps/worker/src/rebuild/stream-snapshot';
import { PROJECTIONS_GROUP } from '../../apps/worker/src/worker.constants';
import { eventually } from '../support/eventually';
import { runRebuildCommand } from '../support/rebuild-command';
import { sleep } from '../support/sleep';

/** The worker's configuration in this scenario (the library side must match it). */
export const LIVE_REBUILD_SETTINGS = {
  idleTtlSeconds: 4,
  absoluteTtlSeconds: 60,
  maxPerUser: 2,
};

export function liveRebuildWorkerEnv(): Record<string, string> {
  return {
    SESSION_IDLE_TTL_SECONDS: String(LIVE_REBUILD_SETTINGS.idleTtlSeconds),
    SESSION_ABSOLUTE_TTL_SECONDS: String(LIVE_REBUILD_SETTINGS.absoluteTtlSeconds),
    SESSION_MAX_PER_USER: String(LIVE_REBUILD_SETTINGS.maxPerUser),
    // No sweep of the worker's own during the test: expired sessions wait for one, as they do
    // between two sweeps, which is when the old rebuild lost their session.expired.
    SESSION_SWEEP_INTERVAL_SECONDS: '3600',
    LOG_LEVEL: 'warn',
  };
}

export interface LiveRebuildTarget {
  service: SessionService;
  store: SessionStore;
  /** The environment of the worker and of the rebuild command (Redis, prefix). */
  env: Record<string, string>;
}

const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)];

/**
 * Rebuild and check while logins, rotations, revocations, revoke-alls, the session limit and
 * expiries flow, with the worker running as a real process: device lists never empty, the checks
 * run under traffic report no difference, and once quiet there is no difference, no user over the
 * limit and no session whose end has no event.
 */
export async function runLiveRebuildScenario({ service, store, env }: LiveRebuildTarget) {
  const redis = store.redis;
  const created: Tracked[] = [];
  const create = async (userId: string) => {
    const { sessionId, token } = await service.create(userId);
    const session = { sessionId, token, userId };
    created.push(session);
    return session;
  };

  // Users nothing but validations touches: their device lists must never look empty.
  const stable = Array.from({ length: 8 }, (_, i) => `stable-${i}`);
  const stableTokens: string[] = [];
  for (const userId of stable)
    for (let i = 0; i < 2; i++) stableTokens.push((await create(userId)).token);
  // Sessions that will expire, unswept (the worker sweeps hourly here).
  const idle = Array.from({ length: 6 }, (_, i) => `idle-${i}`);
  for (const userId of idle) await create(userId);
  // Sessions whose key expired and whose expiry entry was lost: only the events know them.
  const lapsed = Array.from({ length: 4 }, (_, i) => `lapsed-${i}`);
  const lapsedSessions = [];
  for (const userId of lapsed) lapsedSessions.push(await create(userId));
  for (const userId of [...stable, ...idle, ...lapsed])
    await eventually(
      () => store.userSessionIds(userId),
      (ids) => ids.length === (userId.startsWith('stable') ? 2 : 1),
      { timeoutMs: 20_000 },
    );

  // Drift for the rebuild to repair.
  const partitionOf = (userId: string) => store.keys.partitionOf(userId);
  const farFuture = Date.UTC(5138, 0, 1);
  const drifted = created[0];
  await redis.zadd(
    store.keys.expiryIndex(partitionOf(drifted.userId)),
    farFuture,
    expiryMember(drifted.sessionId, drifted.userId),
  );
  await redis.zadd(store.keys.userSessions('stable-1'), Date.now(), '0-ghost-of-stable-1');
  for (const session of lapsedSessions) {
    const partition = partitionOf(session.userId);
    await redis.del(store.keys.session(session.sessionId, partition));
    await redis.zrem(
      store.keys.expiryIndex(partition),
      expiryMember(session.sessionId, session.userId),
    );
  }
  // Let the idle sessions expire in Redis (the stable ones are kept alive by validations).
  const keepAlive = async () => {
    for (const token of stableTokens) expect(await service.validate(token)).not.toBeNull();
  };
  const idleWaitUntil = Date.now() + (LIVE_REBUILD_SETTINGS.idleTtlSeconds + 1) * 1000;
  while (Date.now() < idleWaitUntil) {
    await keepAlive();
    await sleep(300);
  }

  const before = await checkProjections(store);
  const problems = new Set(before.differences.map((d) => d.problem));
  expect(problems).toEqual(
    new Set(['wrong-expiry-score', 'dangling-in-user-index', 'expiry-lost']),
  );
  expect(before.differences.filter((d) => d.problem === 'expiry-lost')).toHaveLength(lapsed.length);
  expect(before.awaitingSweep).toBeGreaterThanOrEqual(idle.length);

  // Traffic: logins beyond the limit, rotations, logouts, revoke-alls, validations.
  const load = Array.from({ length: 20 }, (_, i) => `load-${i}`);
  let stop = false;
  let operations = 0;
  let smallestStableList = Infinity;
  const traffic = (async () => {
    while (!stop) {
      const userId = pick(load);
      const roll = Math.random();
      const mine = created.filter((s) => s.userId === userId);
      if (roll < 0.55 || mine.length === 0) await create(userId);
      else if (roll < 0.7) await rotateQuietly(service, pick(mine), created);
      else if (roll < 0.88) await service.revoke(pick(mine).sessionId, 'logout');
      else if (roll < 0.93) await service.revokeAllForUser(userId);
      else await service.validate(pick(mine).token);
      operations++;
    }
  })();
  const watcher = (async () => {
    while (!stop) {
      await keepAlive();
      for (const userId of stable) {
        const page = await service.listForUser(userId);
        smallestStableList = Math.min(smallestStableList, page.sessions.length);
      }
      await sleep(100);
    }
  })();

  let rebuilt;
  let checked;
  try {
    rebuilt = await runRebuildCommand(env);
    checked = await runRebuildCommand(env, true);
  } finally {
    stop = true;
    await Promise.all([traffic, watcher]);
  }
  const rebuildReport = rebuilt.reports[0];
  const afterRebuild = rebuilt.reports[1];
  expect({ code: rebuilt.code, afterRebuild }).toMatchObject({
    code: 0,
    afterRebuild: { mode: 'check', differenceCount: 0, workerCaughtUp: true },
  });
  expect(rebuildReport).toMatchObject({ mode: 'rebuild' });
  // The lapsed sessions and the idle ones are ended through the sweep, with their event.
  expect(Number(rebuildReport.expired)).toBeGreaterThanOrEqual(lapsed.length + idle.length);
  expect({ code: checked.code, report: checked.reports.at(-1) }).toMatchObject({
    code: 0,
    report: { mode: 'check', differenceCount: 0 },
  });
  expect(smallestStableList).toBe(2);

  // Quiet: the worker drains, then nothing differs, nobody is over the limit, no end is silent.
  await waitForGroup(store, await snapshotStreams(store), PROJECTIONS_GROUP, 60_000);
  const quiet = await checkProjections(store);
  expect(quiet.differences).toEqual([]);
  expect(quiet.workerCaughtUp).toBe(true);
  const validPerUser = new Map<string, number>();
  for (const session of created)
    if ((await service.verify(session.token)).valid)
      validPerUser.set(session.userId, (validPerUser.get(session.userId) ?? 0) + 1);
  for (const [userId, valid] of validPerUser)
    expect({ userId, valid: Math.min(valid, LIVE_REBUILD_SETTINGS.maxPerUser) }).toEqual({
      userId,
      valid,
    });
  const { replay } = await replayStreams(store);
  const dueNow = await store.redisTime();
  const silent = [];
  for (const session of created) {
    const stored = await store.sessionExists(session.sessionId, partitionOf(session.userId));
    if (stored || replay.ended.has(session.sessionId)) continue;
    // Gone without an event yet: only acceptable when its due expiry entry awaits the sweep.
    const entry = (await store.expiryEntries(partitionOf(session.userId))).find(
      (e) => e.sessionId === session.sessionId,
    );
    if (!entry || entry.expiresAt > dueNow) silent.push(session.sessionId);
  }
  expect(silent).toEqual([]);
  for (const session of lapsedSessions) expect(replay.ended.has(session.sessionId)).toBe(true);

  return {
    operations,
    sessions: created.length,
    rebuild: rebuildReport,
    checkUnderTraffic: checked.reports.at(-1),
    quiet,
  };
}

interface Tracked {
  sessionId: string;
  token: string;
  userId: string;
}

/** Rotates a session unless it is gone meanwhile (revoked by the limit, expired). */
async function rotateQuietly(service: SessionService, session: Tracked, created: Tracked[]) {
  try {
    const rotated = await service.rotate(session.token);
    created.push({ sessionId: rotated.sessionId, token: rotated.token, userId: session.userId });
  } catch {
    // gone: nothing to rotate
  }
}
