import { randomBytes } from 'node:crypto';
import Redis, { RedisOptions } from 'ioredis';

/** URL of the Redis provided by test/support/global-setup.ts. */
export function testRedisUrl(): string {
  const url = process.env.TEST_REDIS_URL;
  if (!url) {
    throw new Error(
      'TEST_REDIS_URL is not set: run integration tests through the jest "integration" project ' +
        '(its globalSetup test/support/global-setup.ts provides Redis).',
    );
  }
  return url;
}

const SAFE = /^[A-Za-z0-9_.-]+$/;
const issued = new Set<string>();

/** Key prefix like `t-<label>-<8 hex>`; unique within the process, random across workers. */
export function uniquePrefix(label: string): string {
  if (!SAFE.test(label)) {
    throw new Error(`uniquePrefix label must match ${String(SAFE)}, got ${JSON.stringify(label)}`);
  }
  let prefix: string;
  do {
    prefix = `t-${label}-${randomBytes(4).toString('hex')}`;
  } while (issued.has(prefix));
  issued.add(prefix);
  return prefix;
}

/** Deletes `${prefix}:*` with SCAN + UNLINK so suites clean up without FLUSHDB on a shared DB. */
export async function deleteKeysWithPrefix(redis: Redis, prefix: string): Promise<number> {
  // SCAN MATCH ignores ioredis keyPrefix while UNLINK applies it, so the two would disagree.
  if (redis.options.keyPrefix)
    throw new Error('deleteKeysWithPrefix needs a client without keyPrefix');
  const match = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}:*`;
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 500);
    if (keys.length > 0) deleted += await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
  return deleted;
}

/** An ioredis client on the test Redis; callers must quit() it. */
export function newRedisClient(options: RedisOptions = {}): Redis {
  return new Redis(testRedisUrl(), options);
}
