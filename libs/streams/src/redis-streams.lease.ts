import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { isRedisError } from './redis-streams.parser';

/**
 * Renews the lease of entries a consumer still owns: XCLAIM with min-idle 0 resets their idle
 * time so XAUTOCLAIM elsewhere leaves them alone; JUSTID leaves the delivery counter untouched
 * unless a RETRYCOUNT is given (an in-place retry records its delivery). Entries another consumer
 * took over, or that are no longer pending, are skipped. Returns the ids renewed.
 *
 * KEYS[1] stream; ARGV[1] group; ARGV[2] consumer; ARGV[3] retry count or ''; ARGV[4..] ids.
 */
export const RENEW_LEASE_SCRIPT = `
local owned = {}
for i = 4, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if p[1] and p[1][2] == ARGV[2] then owned[#owned + 1] = ARGV[i] end
end
if #owned == 0 then return owned end
local args = {'XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0}
for _, id in ipairs(owned) do args[#args + 1] = id end
if ARGV[3] ~= '' then
  args[#args + 1] = 'RETRYCOUNT'
  args[#args + 1] = ARGV[3]
end
args[#args + 1] = 'JUSTID'
return redis.call(unpack(args))
`;

const RENEW_LEASE_SHA = createHash('sha1').update(RENEW_LEASE_SCRIPT).digest('hex');

/** Ids per script call: keeps scripts short (they block the server while they run). */
export const LEASE_CHUNK = 200;

export async function renewLeases(
  redis: Redis | Cluster,
  stream: string,
  group: string,
  consumer: string,
  ids: readonly string[],
  retryCount?: number,
): Promise<string[]> {
  const renewed: string[] = [];
  for (let i = 0; i < ids.length; i += LEASE_CHUNK) {
    const args = [1, stream, group, consumer, retryCount ?? '', ...ids.slice(i, i + LEASE_CHUNK)];
    let reply: unknown;
    try {
      reply = await redis.call('EVALSHA', RENEW_LEASE_SHA, ...args);
    } catch (err) {
      if (!isRedisError(err, 'NOSCRIPT')) throw err;
      reply = await redis.call('EVAL', RENEW_LEASE_SCRIPT, ...args);
    }
    if (Array.isArray(reply)) {
      for (const id of reply) if (typeof id === 'string') renewed.push(id);
    }
  }
  return renewed;
}
