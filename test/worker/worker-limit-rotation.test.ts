import { Test, type TestingModule } from '@nestjs/testing';
import { parseSessionEvent, SessionModule, SessionService, SessionStore } from '@app/session';
import { SessionLimitService } from '../../apps/worker/src/projections/session-limit.service';
import { SessionProjections } from '../../apps/worker/src/projections/session-projections';
import { WORKER_CONFIG } from '../../apps/worker/src/worker.config';
import { deleteKeysWithPrefix, testRedisConfig, uniquePrefix } from '../support/test-redis';

/**
 * A rotation that races the limit's revoke: when the limit is enforced after a login, the least
 * recently used session has just been rotated (its old id is gone, so it is not counted and no
 * revoke can reach it), and its new id is indexed only by the later session.rotated. The limit
 * must be enforced then too, or the user stays over it for good. The worker's own projections
 * (real Redis) apply the events in that order, deterministically.
 */
describe('session limit and a rotation racing it (SessionProjections on Redis)', () => {
  const prefix = uniquePrefix('limit-rotation');
  let moduleRef: TestingModule;

  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [
        SessionModule.forRoot({
          redis: testRedisConfig(),
          keyPrefix: prefix,
          cache: { enabled: false },
        }),
      ],
      providers: [
        { provide: WORKER_CONFIG, useValue: { maxSessionsPerUser: 2 } },
        SessionLimitService,
        SessionProjections,
      ],
    }).compile();
    await moduleRef.init();
  });
  afterAll(async () => {
    await deleteKeysWithPrefix(moduleRef.get(SessionStore).redis, prefix);
    await moduleRef.close();
  });

  it('ends the session that came back over the limit under its new id', async () => {
    const service = moduleRef.get(SessionService);
    const store = moduleRef.get(SessionStore);
    const projections = moduleRef.get(SessionProjections);
    const first = await service.create('rotator');
    const second = await service.create('rotator');
    const third = await service.create('rotator');
    const rotated = await service.rotate(first.token);

    const stream = store.keys.events(store.keys.partitionOf('rotator'));
    const events = (await store.readEvents(stream, '-', 100)).map(({ id, pattern, json }) =>
      parseSessionEvent(JSON.parse(json ?? ''), { pattern, id }),
    );
    expect(events.map((event) => event.type)).toEqual([
      'session.created',
      'session.created',
      'session.created',
      'session.rotated',
    ]);
    // In stream order: at the third login the first session is gone (renamed), so two count.
    for (const event of events) await projections.apply(event);

    const valid = (
      await Promise.all([rotated, second, third].map((s) => service.validate(s.token)))
    ).filter((session) => session !== null);
    expect(valid).toHaveLength(2);
    expect((await service.listForUser('rotator')).sessions).toHaveLength(2);
  });
});
