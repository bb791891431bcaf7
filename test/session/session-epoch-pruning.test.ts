import { SessionIndex } from '@app/session';
import { createSessionFixture, type SessionFixture } from './session-fixture';
import { sleep } from '../support/sleep';

describe('Revoke-all epochs expire once no session they cover can be alive', () => {
  let fx: SessionFixture;

  beforeAll(async () => {
    // Absolute age (and so stream retention) of 1 s: an epoch is prunable 1 s after it was set.
    fx = await createSessionFixture('epoch-prune', {
      idleTtlSeconds: 1,
      absoluteTtlSeconds: 1,
      streamPartitions: 1,
    });
  });
  afterAll(() => fx.close());

  it('drops epochs older than the absolute session age and keeps the recent ones', async () => {
    const index = fx.module.get(SessionIndex);
    const epochs = fx.service.keys.revocationEpochs(0);
    const old = await fx.service.create('old-user');
    for (let i = 0; i < 1200; i++) await fx.service.revokeAllForUser(`gone-${i}`);
    await fx.service.revokeAllForUser('old-user');
    expect(await fx.service.validate(old.token)).toBeNull();
    await sleep(1100);
    await fx.service.revokeAllForUser('recent-user');
    expect(await fx.redis.hlen(epochs)).toBe(1202);

    // More fields than one HSCAN batch: the walk goes on until the cursor comes back to 0.
    expect(await index.pruneRevocationEpochs(0, 100)).toBe(1201);
    expect(await fx.redis.hkeys(epochs)).toEqual(['recent-user']);
    // The session the pruned epoch covered has reached its absolute age: still refused.
    expect(await fx.service.validate(old.token)).toBeNull();
    expect(await index.pruneRevocationEpochs(0)).toBe(0);
  });

  it('a revoke-all after pruning still covers sessions created before it', async () => {
    const index = fx.module.get(SessionIndex);
    await index.pruneRevocationEpochs(0);
    const created = await fx.service.create('returning-user');
    await fx.service.revokeAllForUser('returning-user');
    expect(await fx.service.validate(created.token)).toBeNull();
    const fresh = await fx.service.create('returning-user');
    expect(await fx.service.validate(fresh.token)).not.toBeNull();
  });
});
