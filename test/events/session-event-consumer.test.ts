import { Controller, type INestMicroservice, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import {
  OnSessionEvent,
  type SessionCreatedEvent,
  type SessionEventContext,
  sessionEventConsumer,
  SessionKeys,
  SessionModule,
  type SessionRevokedEvent,
  SessionService,
  WORKER_EVENT_GROUP,
} from '@app/session';
import { RedisStreamsServer } from '@app/streams';
import { PROJECTIONS_GROUP } from '../../apps/worker/src/worker.constants';
import { eventually } from '../support/eventually';
import {
  deleteKeysWithPrefix,
  newRedisClient,
  testRedisUrl,
  uniquePrefix,
} from '../support/test-redis';

/**
 * sessionEventConsumer + @OnSessionEvent in process: typed events, and a handler that keeps
 * failing sends its event to its own group's dead-letter stream, never the worker's.
 */
const PARTITIONS = 2;

interface Seen {
  consumer: string;
  created: SessionCreatedEvent[];
  revoked: { event: SessionRevokedEvent; deliveries: number }[];
}

function consumerModule(seen: Seen) {
  @Controller()
  class Handlers {
    @OnSessionEvent('session.created')
    created(event: SessionCreatedEvent) {
      // The poison user's events fail every delivery.
      if (event.userId === 'poison') throw new Error('cannot handle poison');
      seen.created.push(event);
    }

    @OnSessionEvent('session.revoked')
    revoked(event: SessionRevokedEvent, context: SessionEventContext) {
      seen.revoked.push({ event, deliveries: context.getDeliveryCount() });
    }
  }
  @Module({ controllers: [Handlers] })
  class ConsumerModule {}
  return ConsumerModule;
}

describe('sessionEventConsumer and @OnSessionEvent', () => {
  const prefix = uniquePrefix('consumer');
  const session = {
    redis: { url: testRedisUrl() },
    keyPrefix: prefix,
    streamPartitions: PARTITIONS,
  };
  const keys = new SessionKeys(prefix, PARTITIONS);
  const redis = newRedisClient();
  const consumers: INestMicroservice[] = [];

  afterAll(async () => {
    await Promise.all(consumers.map((consumer) => consumer.close()));
    await deleteKeysWithPrefix(redis, prefix);
    await redis.quit();
  });

  it('refuses the worker group, and a Redis client it cannot share', () => {
    expect(WORKER_EVENT_GROUP).toBe(PROJECTIONS_GROUP);
    expect(() => sessionEventConsumer({ session, group: PROJECTIONS_GROUP })).toThrow(
      /worker's group/,
    );
    expect(() => sessionEventConsumer({ session, group: 'bad group' })).toThrow(/group/);
    expect(() =>
      sessionEventConsumer({ session: { redis: { client: redis } }, group: 'audit' }),
    ).toThrow(/pass `connection`/);
    const config = sessionEventConsumer({
      session,
      group: 'audit',
      mode: 'per-instance',
      consumer: 'pod-1',
    });
    expect(config.group).toBe('audit.pod-1');
    expect(config.streams).toEqual(keys.allEventStreams());
    expect(config.deadLetterStreams).toEqual(
      keys.allEventStreams().map((stream) => `${stream}:dead:audit.pod-1`),
    );
  });

  it('hands each handler its typed event; a failing one is dead-lettered per group', async () => {
    const shared: Seen = { consumer: 'billing', created: [], revoked: [] };
    const mine: Seen = { consumer: 'billing.c2', created: [], revoked: [] };
    const configs = [
      sessionEventConsumer({
        session,
        group: 'billing',
        consumer: 'c1',
        maxDeliveries: 2,
        retryDelayMs: 10,
      }),
      sessionEventConsumer({
        session,
        group: 'billing',
        mode: 'per-instance',
        consumer: 'c2',
        maxDeliveries: 2,
        retryDelayMs: 10,
      }),
    ];
    for (const [index, seen] of [shared, mine].entries()) {
      const app = await NestFactory.createMicroservice(consumerModule(seen), {
        strategy: new RedisStreamsServer(configs[index]),
        logger: false,
      });
      await app.listen();
      consumers.push(app);
    }

    const moduleRef = await Test.createTestingModule({
      imports: [SessionModule.forRoot(session)],
    }).compile();
    await moduleRef.init();
    const sessions = moduleRef.get(SessionService);
    const alice = await sessions.create('alice');
    await sessions.create('poison');
    await sessions.revoke(alice.sessionId, 'logout');

    for (const seen of [shared, mine]) {
      await eventually(
        () => seen.revoked.length,
        (n) => n === 1,
      );
      expect(seen.created).toEqual([
        {
          v: expect.any(Number),
          type: 'session.created',
          at: expect.any(Number),
          userId: 'alice',
          sessionId: alice.sessionId,
          createdAt: alice.createdAt,
          expiresAt: alice.expiresAt,
          absoluteExpiresAt: alice.absoluteExpiresAt,
        },
      ]);
      expect(seen.revoked[0]).toEqual({
        event: expect.objectContaining({
          type: 'session.revoked',
          sessionId: alice.sessionId,
          reason: 'logout',
        }),
        deliveries: 1,
      });
    }

    const poisonStream = keys.events(keys.partitionOf('poison'));
    for (const config of configs) {
      const dead = `${poisonStream}:dead:${config.group}`;
      expect(config.deadLetterStreams).toContain(dead);
      const entries = await eventually(
        () => redis.xrange(dead, '-', '+'),
        (found) => found.length === 1,
      );
      expect(entries[0][1].join(' ')).toContain('session.created');
    }
    // The worker's dead-letter stream (its metrics count it) is untouched.
    expect(await redis.exists(keys.deadLetters(poisonStream))).toBe(0);
    console.log(
      `dead letters: ${configs.map((c) => `${poisonStream}:dead:${c.group}`).join(', ')}`,
    );
    await moduleRef.close();
  });
});
