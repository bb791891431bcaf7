import { randomBytes } from 'node:crypto';
import { expiryMember, parseSessionEvent } from '@app/session';
import { checkProjections } from '../../apps/worker/src/rebuild/projection-check';
import { SessionLimitService } from '../../apps/worker/src/projections/session-limit.service';
import { SessionProjections } from '../../apps/worker/src/projections/session-projections';
import type { WorkerConfig } from '../../apps/worker/src/worker.config';
import { sleep } from '../support/sleep';
import { readAllEvents } from '../session/session-fixture';
import { createStoreFixture, expressSession, type StoreFixture } from './store-fixture';

const newSid = () => randomBytes(24).toString('base64url');
const loggedIn = (user: string | number, data: Record<string, unknown> = {}) =>
  expressSession({ ...data, passport: { user } });

describe('express-session store: users and guests', () => {
  let fixture: StoreFixture;
  let projections: SessionProjections;

  beforeAll(async () => {
    fixture = await createStoreFixture('store-users', { streamPartitions: 8 });
    // The worker's own projection code, with a limit of three sessions per user.
    const limits = new SessionLimitService(fixture.service, fixture.store, {
      maxSessionsPerUser: 3,
    } as WorkerConfig);
    projections = new SessionProjections(fixture.index, limits);
  });
  afterAll(() => fixture.close());

  /** Applies every event written so far, as the worker would (idempotent, so re-applying is fine). */
  async function project(): Promise<void> {
    for (const event of await readAllEvents(fixture))
      await projections.apply(
        parseSessionEvent(event.data, { pattern: event.pattern, id: event.id }),
      );
  }

  it('stores a session without a user as a guest: no user, no user index, in the expiry index', async () => {
    const { set } = fixture.expressStore();
    const sid = newSid();
    await set(sid, expressSession({ cart: [1] }));
    const key = (await fixture.sessionKeyOf(sid))!;
    expect(await fixture.redis.hget(key, 'uid')).toBe('');
    await project();
    const sessionId = key.slice(key.lastIndexOf(':') + 1);
    const partition = Number(sessionId.split('-')[0]);
    expect(await fixture.store.inExpiryIndex(partition, sessionId, '')).toBe(true);
    expect(await fixture.redis.keys(`${fixture.prefix}:*user-sessions:`)).toEqual([]);
    expect(expiryMember(sessionId, '')).toBe(`${sessionId}|`);
  });

  it("passes the worker's projection check: guests in the expiry index only, users in both", async () => {
    const { set } = fixture.expressStore();
    for (let i = 0; i < 6; i++) await set(newSid(), expressSession({ i }));
    await set(newSid(), loggedIn('gus'));
    await project();
    const report = await checkProjections(fixture.store, { waitForWorkerMs: 0 });
    expect(report.differences).toEqual([]);
  });

  it('spreads guests over the partitions (a guest has no user to choose one)', async () => {
    const { set } = fixture.expressStore();
    const partitions = new Set<string>();
    for (let i = 0; i < 24; i++) {
      const sid = newSid();
      await set(sid, expressSession({ i }));
      const key = (await fixture.sessionKeyOf(sid))!;
      partitions.add(key.slice(key.lastIndexOf(':') + 1).split('-')[0]);
    }
    expect(partitions.size).toBeGreaterThan(1);
  });

  it('sweeps an expired guest session like any other', async () => {
    const { set } = fixture.expressStore({ ttl: 1 });
    const sid = newSid();
    await set(sid, expressSession({ n: 1 }));
    await project();
    const key = (await fixture.sessionKeyOf(sid))!;
    const sessionId = key.slice(key.lastIndexOf(':') + 1);
    const partition = Number(sessionId.split('-')[0]);
    await sleep(1100);
    const swept = await fixture.index.sweepPartition(partition, 100);
    expect(swept.expired).toBeGreaterThanOrEqual(1);
    expect(await fixture.store.inExpiryIndex(partition, sessionId, '')).toBe(false);
    const expired = (await readAllEvents(fixture)).filter(
      (e) => e.pattern === 'session.expired' && e.data.sessionId === sessionId,
    );
    expect(expired).toHaveLength(1);
  });

  it('attaches the user from session.passport.user: device list, revoke-others and revoke-all cover it', async () => {
    const { get, set } = fixture.expressStore();
    const library = await fixture.service.create('alice');
    const [phone, laptop] = [newSid(), newSid()];
    await set(phone, loggedIn('alice', { device: 'phone' }));
    await set(laptop, loggedIn('alice', { device: 'laptop' }));
    await project();
    const listed = (await fixture.service.listForUser('alice')).sessions.map((s) => s.sessionId);
    expect(listed).toHaveLength(3);
    expect(listed).toContain(library.sessionId);

    // revoke-others from the library session ends both store sessions...
    await fixture.service.revokeOthers('alice', library.sessionId);
    expect(await get(phone)).toBeNull();
    expect(await get(laptop)).toBeNull();
    expect(await fixture.service.validate(library.token)).not.toBeNull();

    // ...and a revoke-all ends a store session created since.
    const tablet = newSid();
    await set(tablet, loggedIn('alice'));
    expect(await get(tablet)).toMatchObject({ passport: { user: 'alice' } });
    await fixture.service.revokeAllForUser('alice');
    expect(await get(tablet)).toBeNull();
    expect(await fixture.service.validate(library.token)).toBeNull();
  });

  it("applies the user's session limit to store sessions too", async () => {
    const { get, set } = fixture.expressStore();
    const sids = [newSid(), newSid(), newSid(), newSid()];
    for (const sid of sids) {
      await set(sid, loggedIn(7)); // a numeric user id (passport often serializes one)
      await sleep(5);
    }
    await project();
    const alive = await Promise.all(sids.map(async (sid) => (await get(sid)) !== null));
    expect(alive).toEqual([false, true, true, true]);
  });

  it('moves the data to a session of the user on a login that keeps the sid, and back on logout', async () => {
    const { get, set } = fixture.expressStore();
    const sid = newSid();
    await set(sid, expressSession({ cart: [3] }));
    const guestKey = (await fixture.sessionKeyOf(sid))!;
    await set(sid, loggedIn('bob', { cart: [3] }));
    const userKey = (await fixture.sessionKeyOf(sid))!;
    expect(userKey).not.toBe(guestKey);
    expect(await fixture.redis.exists(guestKey)).toBe(0);
    expect(await fixture.redis.hget(userKey, 'uid')).toBe('bob');
    expect(await get(sid)).toMatchObject({ cart: [3], passport: { user: 'bob' } });

    await set(sid, expressSession({ cart: [3], passport: {} }));
    expect(await fixture.redis.exists(userKey)).toBe(0);
    expect(await fixture.redis.hget((await fixture.sessionKeyOf(sid))!, 'uid')).toBe('');
  });

  it('refuses a user id that is not one, with an error', async () => {
    const { set } = fixture.expressStore({ userIdOf: (s) => s.uid as string });
    await expect(set(newSid(), expressSession({ uid: 'a\nb' }))).rejects.toThrow(/user id/);
  });
});
