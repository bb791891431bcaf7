import { randomBytes } from 'node:crypto';
import { AppProcess } from '../support/app-process';
import { eventually } from '../support/eventually';
import { testRedisUrl } from '../support/test-redis';
import { readAllEvents } from '../session/session-fixture';
import { createStoreFixture, expressSession, type StoreFixture } from './store-fixture';

jest.setTimeout(120_000);

const newSid = () => randomBytes(24).toString('base64url');

describe('store sessions and the worker process', () => {
  let fixture: StoreFixture;
  let worker: AppProcess;

  beforeAll(async () => {
    fixture = await createStoreFixture('store-worker', { streamPartitions: 4 });
    worker = await AppProcess.start('worker', 'store-worker-1', {
      REDIS_URL: testRedisUrl(),
      SESSION_PREFIX: fixture.prefix,
      SESSION_STREAM_PARTITIONS: '4',
      SESSION_SWEEP_INTERVAL_SECONDS: '1',
    });
  });
  afterAll(async () => {
    await worker?.stop();
    await fixture.close();
  });

  it('indexes a user session, keeps guests out of user indexes, sweeps them, dead-letters nothing', async () => {
    const { set } = fixture.expressStore();
    const shortLived = fixture.expressStore({ ttl: 1 });
    const [guest, user] = [newSid(), newSid()];
    await shortLived.set(guest, expressSession({ cart: [1] }));
    await set(user, expressSession({ passport: { user: 'wendy' } }));

    await eventually(
      () => fixture.service.listForUser('wendy'),
      (page) => page.sessions.length === 1,
    );
    const guestKey = (await fixture.sessionKeyOf(guest))!;
    const guestId = guestKey.slice(guestKey.lastIndexOf(':') + 1);
    // The worker's sweep ends the guest session once its idle TTL has passed.
    const expired = await eventually(
      async () => (await readAllEvents(fixture)).filter((e) => e.pattern === 'session.expired'),
      (events) => events.some((e) => e.data.sessionId === guestId),
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(expired.find((e) => e.data.sessionId === guestId)?.data).toMatchObject({ userId: '' });
    expect(await fixture.redis.keys(`${fixture.prefix}:*user-sessions:`)).toEqual([]);
    for (const stream of fixture.store.eventStreams())
      expect(await fixture.store.deadLetterCount(stream)).toBe(0);
  });
});
