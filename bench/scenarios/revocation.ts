/**
 * 5. Revocation: time from `revoke()` returning on one instance to a rejection on two others.
 * Ours: three instance processes with L1 caches (the other two have the session cached). Peers
 * have no cache, so every request pays a round trip and a revocation is seen by the next one; the
 * seed's destroyAllForUser revokes nothing (its user index is never written): both measured here.
 */
import { join } from 'node:path';
import type { CreatedSession } from '@app/session';
import { InstanceProcess } from '../../test/multi-instance/instance-process';
import { ConnectRedisPeer } from '../peers/connect-redis-store';
import { SeedCache } from '../peers/seed-cache';
import { SessionService as SeedSessionService } from '../peers/seed-session.service';
import { settings } from '../support/config';
import { count, ms, sleep } from '../support/format';
import { type Latencies, latencies } from '../support/latency';
import { withPrivateRedis } from '../support/redis';
import { Section } from '../support/report';
import { peerRevocation, seedRevokeAll } from './revocation-peers';

/** The instance child of this scenario: the library plus the recording of rejection times. */
const REVOCATION_INSTANCE = join(__dirname, '..', 'support', 'revocation-instance.ts');

interface Outcome {
  receivedAt: number;
  rejectedAt: number | null;
}

async function ours(
  url: string,
): Promise<{ rejection: Latencies; missed: number; revokeAll: string }> {
  const options = { redis: { url }, keyPrefix: 'sess' };
  const [a, b, c] = await Promise.all(
    ['a', 'b', 'c'].map((n) => InstanceProcess.start(n, options, REVOCATION_INSTANCE)),
  );
  try {
    const n = settings.revocations;
    const sessions: CreatedSession[] = [];
    for (let i = 0; i < n; i++)
      sessions.push(await a.call<CreatedSession>('create', `user-${i % 100}`));
    const tokens = sessions.map((s) => s.token);
    const pairs = sessions.map((s) => [s.sessionId, s.token]);
    for (const other of [b, c]) {
      await other.call('validate', tokens); // now cached there
      await other.call('arm', pairs);
    }
    const returned: number[] = [];
    for (const s of sessions) {
      returned.push((await a.call<{ returnedAt: number }>('revoke', s.sessionId)).returnedAt);
      await sleep(2); // one revocation at a time
    }
    await sleep(300);
    const delays: number[] = [];
    let missed = 0;
    for (const other of [b, c]) {
      const outcomes = await other.call<(Outcome | null)[]>(
        'outcomes',
        sessions.map((s) => s.sessionId),
      );
      outcomes.forEach((o, i) => {
        if (o?.rejectedAt) delays.push(Math.max(0, o.rejectedAt - returned[i]));
        else missed++;
      });
      // Whatever the timing, each must now be rejected there.
      if ((await other.call<number>('validate', tokens)) !== 0)
        throw new Error(`${other.name} accepts a revoked token`);
    }

    // Revoke-all: every session of one user, cached on b and c, rejected there afterwards.
    const victims: string[] = [];
    for (let i = 0; i < Math.min(n, 50); i++)
      victims.push((await a.call<CreatedSession>('create', 'victim')).token);
    for (const other of [b, c]) await other.call('validate', victims);
    await a.call('revokeAllForUser', 'victim');
    await sleep(50);
    const stillValid =
      (await b.call<number>('validate', victims)) + (await c.call<number>('validate', victims));
    const revokeAll =
      `ours: revokeAllForUser of a user with ${victims.length} sessions cached on two other ` +
      `instances → ${2 * victims.length - stillValid} of ${2 * victims.length} validations rejected 50 ms later`;
    return { rejection: latencies(delays), missed, revokeAll };
  } finally {
    await Promise.all([a, b, c].map((i) => i.stop()));
  }
}

export async function runRevocation(): Promise<Section> {
  const n = settings.revocations;
  const section = new Section(
    '5. Revocation across instances',
    `${count(n)} sessions revoked one at a time on instance A; time from revoke() returning on A ` +
      'to instance B and C answering "invalid" (each measured twice: 2 instances). Ours: three ' +
      'processes with L1 caches holding the session, rejection = the validation made when the ' +
      'invalidation arrives (clamped at 0 when it lands before the revoke reply). Peers: three ' +
      'clients (own connections) of one fresh Redis; rejection = the next get after the delete.',
  );
  const our = await withPrivateRedis(ours);
  const connect = await withPrivateRedis((url) =>
    peerRevocation(url, (redis) => {
      const peer = new ConnectRedisPeer(redis);
      return {
        create: (i) => peer.create(`user-${i}`),
        revoke: (id) => peer.destroy(id),
        accepts: async (id) => (await peer.load(id)) !== undefined,
      };
    }),
  );
  const seedResult = await withPrivateRedis((url) =>
    peerRevocation(url, (redis) => {
      const seed = new SeedSessionService(new SeedCache(redis));
      return {
        create: (i) => seed.create(`user-${i}`, {}),
        revoke: (id) => seed.destroy(id),
        accepts: async (id) => (await seed.get(id)) !== null,
      };
    }),
  );
  const seedAll = await withPrivateRedis(seedRevokeAll);

  const base = (l: Latencies, p: 'p50' | 'p99') => ({ label: `connect-redis ${p}`, value: l[p] });
  section.figure({
    label: 'ours: revoke returned → rejected, p50',
    value: our.rejection.p50,
    unit: 'ms',
    baseline: base(connect.rejection, 'p50'),
  });
  section.figure({
    label: 'ours: revoke returned → rejected, p99',
    value: our.rejection.p99,
    unit: 'ms',
    baseline: base(connect.rejection, 'p99'),
  });
  section.figure({
    label: 'seed destroy → rejected, p50',
    value: seedResult.rejection.p50,
    unit: 'ms',
    baseline: base(connect.rejection, 'p50'),
  });
  section.figure({
    label: 'seed destroy → rejected, p99',
    value: seedResult.rejection.p99,
    unit: 'ms',
    baseline: base(connect.rejection, 'p99'),
  });
  section.note(
    `ours: ${our.rejection.measured} rejections measured, max ${ms(our.rejection.max)}, ${our.missed} without ` +
      'a notice (then rejected by the background re-check within maxStalenessMs); every token rejected on B and C afterwards',
  );
  section.note(our.revokeAll);
  section.note(
    `connect-redis: no cache, so a revocation is seen by the next request (max ${ms(connect.rejection.max)}), ` +
      'at the price of a round trip on every request (GET + EXPIRE: see scenario 1)',
  );
  section.note(seedAll);
  return section;
}
