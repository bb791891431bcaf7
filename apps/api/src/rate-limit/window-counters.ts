import type { Cluster, Redis } from 'ioredis';

/**
 * Checks every counter against its limit and, only when none is reached, counts one in each:
 * a refused request counts nowhere, and concurrent requests cannot all slip under a limit (the
 * check and the count are one script). Each counter's window starts with its first count.
 * KEYS: the counters (one hash slot). ARGV[1]: window ms; ARGV[1 + i]: limit of KEYS[i].
 * Returns { 0, 0 } when counted, else { i, ms left in KEYS[i]'s window }.
 */
const RESERVE = `
local window = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') >= tonumber(ARGV[i + 1]) then
    local ttl = redis.call('PTTL', key)
    if ttl < 0 then
      redis.call('PEXPIRE', key, window)
      ttl = window
    end
    return { i, ttl }
  end
end
for _, key in ipairs(KEYS) do
  redis.call('INCR', key)
  if redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, window) end
end
return { 0, 0 }
`;

/** Gives back one count to each counter (a reserved attempt that turned out not to count). */
const REFUND = `
for _, key in ipairs(KEYS) do
  if redis.call('DECR', key) <= 0 then redis.call('DEL', key) end
end
return 0
`;

type Reserve = (keyCount: number, ...args: (string | number)[]) => Promise<[number, number]>;
type Refund = (keyCount: number, ...keys: string[]) => Promise<number>;

export type Reservation =
  { counted: true } | { counted: false; index: number; retryAfterMs: number };

/**
 * Fixed-window counters in Redis, so a limit holds across api instances. The keys of one call
 * must share a hash slot (a `{tag}`) on Redis Cluster.
 */
export class WindowCounters {
  private readonly reserveCommand: Reserve;
  private readonly refundCommand: Refund;

  constructor(redis: Redis | Cluster) {
    const commands = redis as unknown as Record<string, unknown>;
    if (typeof commands.apiWindowReserve !== 'function') {
      redis.defineCommand('apiWindowReserve', { lua: RESERVE });
      redis.defineCommand('apiWindowRefund', { lua: REFUND });
    }
    this.reserveCommand = (commands.apiWindowReserve as Reserve).bind(redis);
    this.refundCommand = (commands.apiWindowRefund as Refund).bind(redis);
  }

  /** Counts one in every counter unless one of them has reached its limit. */
  async reserve(
    counters: { key: string; limit: number }[],
    windowMs: number,
  ): Promise<Reservation> {
    const [index, ttl] = await this.reserveCommand(
      counters.length,
      ...counters.map((c) => c.key),
      windowMs,
      ...counters.map((c) => c.limit),
    );
    if (Number(index) === 0) return { counted: true };
    return { counted: false, index: Number(index) - 1, retryAfterMs: Number(ttl) };
  }

  async refund(keys: string[]): Promise<void> {
    if (keys.length > 0) await this.refundCommand(keys.length, ...keys);
  }
}
