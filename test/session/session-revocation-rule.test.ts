import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { revokedByEpoch } from '@app/session';
import { newRedisClient } from '../support/test-redis';

/**
 * The revoke-all rule exists twice, once per language: the Lua include the scripts run and the
 * TypeScript function the device list and the counts use. Both are run over the same cases here.
 */
const INCLUDE = join(__dirname, '../../libs/session/src/scripts/includes/revokedByEpoch.lua');
// ARGV: createdAt, keptThrough ('' = absent), revokedBefore ('' = no epoch).
const PROBE = `${readFileSync(INCLUDE, 'utf8')}
local function absent(value) if value == '' then return false end return value end
return revokedByEpoch(ARGV[1], absent(ARGV[2]), absent(ARGV[3])) and 1 or 0`;

describe('the revocation rule', () => {
  let redis: Redis;

  beforeAll(() => {
    redis = newRedisClient();
  });

  afterAll(async () => {
    await redis.quit();
  });

  const times = [99, 100, 101];
  const cases = times.flatMap((createdAt) =>
    [null, 99, 100, 101].flatMap((keptThrough) =>
      [null, 100].map((revokedBefore) => ({ createdAt, keptThrough, revokedBefore })),
    ),
  );

  it('gives the same verdict in Lua and in TypeScript on every case', async () => {
    for (const { createdAt, keptThrough, revokedBefore } of cases) {
      const lua =
        Number(
          await redis.eval(
            PROBE,
            0,
            String(createdAt),
            keptThrough === null ? '' : String(keptThrough),
            revokedBefore === null ? '' : String(revokedBefore),
          ),
        ) === 1;
      const ts = revokedByEpoch(createdAt, keptThrough, revokedBefore);
      expect({ createdAt, keptThrough, revokedBefore, lua }).toEqual({
        createdAt,
        keptThrough,
        revokedBefore,
        lua: ts,
      });
    }
  });

  it('revokes exactly the sessions created at or before the epoch and not kept through it', () => {
    const revoked = cases.filter((c) =>
      revokedByEpoch(c.createdAt, c.keptThrough, c.revokedBefore),
    );
    expect(revoked).toEqual([
      { createdAt: 99, keptThrough: null, revokedBefore: 100 },
      { createdAt: 99, keptThrough: 99, revokedBefore: 100 },
      { createdAt: 100, keptThrough: null, revokedBefore: 100 },
      { createdAt: 100, keptThrough: 99, revokedBefore: 100 },
    ]);
  });
});
