import type { Redis } from 'ioredis';

/**
 * Stands in for `@nestjs-redisx/cache`'s ICacheService, which the seed recipe injects: JSON values,
 * TTL in seconds, on plain ioredis (GET / SET EX / DEL).
 */
export class SeedCache {
  constructor(private readonly redis: Redis) {}

  async get<T>(key: string): Promise<T | null> {
    const raw = await this.redis.get(key);
    return raw === null ? null : (JSON.parse(raw) as T);
  }

  async set(key: string, value: unknown, options: { ttl: number }): Promise<void> {
    await this.redis.set(key, JSON.stringify(value), 'EX', options.ttl);
  }

  async delete(key: string): Promise<void> {
    await this.redis.del(key);
  }
}

export const SEED_CACHE = Symbol('SEED_CACHE');
