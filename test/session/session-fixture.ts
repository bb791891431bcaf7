import { Test, type TestingModule } from '@nestjs/testing';
import { Cluster, Redis } from 'ioredis';
import {
  parseSessionEvent,
  SessionModule,
  SessionService,
  SessionStore,
  type SessionModuleOptions,
} from '@app/session';
import {
  deleteKeysWithPrefix,
  newRedisClient,
  testRedisConfig,
  uniquePrefix,
} from '../support/test-redis';

export interface SessionFixture {
  module: TestingModule;
  service: SessionService;
  /** The library's store (typed access to what it wrote). */
  store: SessionStore;
  /** A separate client for looking at what the library wrote. */
  redis: Redis;
  prefix: string;
  close(): Promise<void>;
}

/** A SessionModule on the test Redis with its own key prefix, plus an inspection client. */
export async function createSessionFixture(
  label: string,
  {
    redisUrl,
    ...options
  }: Partial<Omit<SessionModuleOptions, 'redis'>> & { redisUrl?: string } = {},
): Promise<SessionFixture> {
  const prefix = options.keyPrefix ?? uniquePrefix(label);
  // The test Redis (a cluster in the `cluster` jest project) unless a private one is given.
  const redisConfig = redisUrl ? { url: redisUrl } : testRedisConfig();
  const module = await Test.createTestingModule({
    imports: [SessionModule.forRoot({ redis: redisConfig, keyPrefix: prefix, ...options })],
  }).compile();
  await module.init();
  const redis = redisUrl ? new Redis(redisUrl) : newRedisClient();
  return {
    module,
    service: module.get(SessionService),
    store: module.get(SessionStore),
    redis,
    prefix,
    async close() {
      await deleteKeysWithPrefix(redis, prefix);
      await redis.quit();
      await module.close();
    },
  };
}

/** The event in its long form (compact ones upcast with their entry), or as stored if unreadable. */
function upcast(
  data: Record<string, unknown>,
  pattern: string,
  id: string,
): Record<string, unknown> {
  try {
    return parseSessionEvent(data, { pattern, id });
  } catch {
    return data;
  }
}

export interface StreamEvent {
  id: string;
  pattern: string;
  data: Record<string, unknown>;
}

/** Every event written to all partitions, in id order per partition. */
export async function readAllEvents(fixture: SessionFixture): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  for (const stream of fixture.service.keys.allEventStreams()) {
    for (const [id, fields] of await fixture.redis.xrange(stream, '-', '+')) {
      const entry: Record<string, string> = {};
      for (let i = 0; i < fields.length; i += 2) entry[fields[i]] = fields[i + 1];
      events.push({
        id,
        pattern: entry.pattern,
        data: upcast(JSON.parse(entry.data), entry.pattern, id),
      });
    }
  }
  return events;
}

/** Every key under the fixture's prefix (every master's, on a cluster). */
export async function allKeys(fixture: SessionFixture): Promise<string[]> {
  const keys: string[] = [];
  const client = fixture.redis as Redis | Cluster;
  const nodes = client instanceof Cluster ? client.nodes('master') : [client];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', `${fixture.prefix}:*`, 'COUNT', 500);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
  }
  return keys.sort();
}

/** A well-formed session id of the same partition that is certainly not `sessionId`. */
export function otherSessionId(sessionId: string): string {
  return sessionId.slice(0, -1) + (sessionId.endsWith('0') ? '1' : '0');
}

export { sleep } from '../support/sleep';
