import { Redis } from 'ioredis';
import { RedisServerProcess } from '../../test/support/redis-server-process';

/** Runs `fn` against a fresh private redis-server (never the shared one), stopped afterwards. */
export async function withPrivateRedis<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const server = await RedisServerProcess.start();
  try {
    return await fn(server.url);
  } finally {
    await server.stop();
  }
}

/** `INFO <section>` as a map of field → value. */
export async function info(redis: Redis, section: string): Promise<Map<string, string>> {
  const text = await redis.info(section);
  const fields = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) fields.set(line.slice(0, at), line.slice(at + 1));
  }
  return fields;
}

export async function usedMemory(redis: Redis): Promise<number> {
  return Number((await info(redis, 'memory')).get('used_memory'));
}

export interface CommandStat {
  command: string;
  calls: number;
  usecPerCall: number;
}

/** `INFO commandstats`, busiest first (reset with CONFIG RESETSTAT before a measurement). */
export async function commandStats(redis: Redis): Promise<CommandStat[]> {
  const stats: CommandStat[] = [];
  for (const [field, value] of await info(redis, 'commandstats')) {
    const calls = /calls=(\d+)/.exec(value);
    const perCall = /usec_per_call=([\d.]+)/.exec(value);
    if (!calls || !perCall) continue;
    stats.push({
      command: field.replace(/^cmdstat_/, ''),
      calls: Number(calls[1]),
      usecPerCall: Number(perCall[1]),
    });
  }
  return stats.sort((a, b) => b.calls - a.calls);
}

/** "evalsha 14.2 µs/call, set 1.1 µs/call" for the commands a measurement issued. */
export function describeStats(stats: CommandStat[], minCalls: number): string {
  return stats
    .filter((s) => s.calls >= minCalls && !['config', 'info', 'ping', 'select'].includes(s.command))
    .map((s) => `${s.command} ${s.usecPerCall.toFixed(2)} µs/call`)
    .join(', ');
}
