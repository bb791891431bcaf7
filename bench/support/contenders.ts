import { Redis } from 'ioredis';
import { RedisServerProcess } from '../../test/support/redis-server-process';
import { type CommandStat, commandStats, describeStats, info } from './redis';

/** One variant under test, prepared against its own fresh private redis-server. */
export interface Contender {
  label: string;
  /** Redis time per command of this contender's runs (INFO commandstats). */
  redisTime(minCalls: number): Promise<string>;
  redisStats(): Promise<CommandStat[]>;
  /** CPU seconds used by its redis-server so far. */
  redisCpuSeconds(): Promise<number>;
  close(): Promise<void>;
}

export interface Prepared<T> {
  value: T;
  close(): Promise<void>;
}

/** Starts a redis-server for `label`, prepares the variant on it, and resets its command stats. */
export async function contender<T>(
  label: string,
  prepare: (url: string) => Promise<Prepared<T>>,
): Promise<Contender & { value: T }> {
  const server = await RedisServerProcess.start();
  const admin = new Redis(server.url);
  try {
    const prepared = await prepare(server.url);
    await admin.config('RESETSTAT');
    return {
      label,
      value: prepared.value,
      redisTime: async (minCalls) =>
        describeStats(await commandStats(admin), minCalls) || 'no Redis command',
      redisStats: () => commandStats(admin),
      redisCpuSeconds: async () => {
        const cpu = await info(admin, 'cpu');
        return Number(cpu.get('used_cpu_user')) + Number(cpu.get('used_cpu_sys'));
      },
      close: async () => {
        await prepared.close();
        admin.disconnect();
        await server.stop();
      },
    };
  } catch (error) {
    admin.disconnect();
    await server.stop();
    throw error;
  }
}

/** The median of per-round results, by `score`. */
export function median<R>(results: R[], score: (r: R) => number): R {
  const sorted = [...results].sort((a, b) => score(a) - score(b));
  return sorted[Math.floor(sorted.length / 2)];
}
