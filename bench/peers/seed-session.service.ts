/**
 * The seed recipe's SessionService (shared/seed/session-management.txt), faithfully: bugs included.
 * Every `get` is a GET + JSON.parse + SET with the TTL (two round trips, a write per read), and
 * `destroyAllForUser` reads a user index that nothing ever writes, so it revokes nothing. Only the
 * cache is swapped: plain ioredis (SeedCache) in place of `@nestjs-redisx/cache`.
 */
import { Inject, Injectable } from '@nestjs/common';
import { v4 as uuid } from 'uuid';
import { SEED_CACHE, SeedCache } from './seed-cache';

export interface SessionData {
  userId: string;
  createdAt: number;
  lastAccessedAt: number;
  roles?: string[];
  [key: string]: unknown;
}

@Injectable()
export class SessionService {
  private readonly SESSION_TTL = 3600;
  private readonly MAX_AGE = 86400;

  constructor(@Inject(SEED_CACHE) private readonly cache: SeedCache) {}

  async create(userId: string, data: Partial<SessionData>): Promise<string> {
    const sessionId = uuid();
    const session: SessionData = {
      userId,
      ...data,
      createdAt: Date.now(),
      lastAccessedAt: Date.now(),
    };
    await this.cache.set(`session:${sessionId}`, session, { ttl: this.SESSION_TTL });
    return sessionId;
  }

  async get(sessionId: string): Promise<SessionData | null> {
    const session = await this.cache.get<SessionData>(`session:${sessionId}`);
    if (!session) return null;
    // Check absolute max age
    if (Date.now() - session.createdAt > this.MAX_AGE * 1000) {
      await this.destroy(sessionId);
      return null;
    }
    // Sliding expiration
    session.lastAccessedAt = Date.now();
    await this.cache.set(`session:${sessionId}`, session, { ttl: this.SESSION_TTL });
    return session;
  }

  async destroy(sessionId: string): Promise<void> {
    await this.cache.delete(`session:${sessionId}`);
  }

  async destroyAllForUser(userId: string): Promise<number> {
    const sessionIds = (await this.cache.get<string[]>(`user:sessions:${userId}`)) || [];
    for (const id of sessionIds) {
      await this.cache.delete(`session:${id}`);
    }
    await this.cache.delete(`user:sessions:${userId}`);
    return sessionIds.length;
  }
}
